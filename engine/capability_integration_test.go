package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/inspect"
	"github.com/ladingbuild/lading/internal/testenv"
)

// Both engines CI runs (v0.34.2, and v0.33.1, the oldest supported) have
// every feature a build with provenance and an epoch needs: the check
// passes and the image carries SLSA v1 provenance.
func TestCapabilitiesOfCIEngines(t *testing.T) {
	env := testenv.Require(t)
	addrs := map[string]string{"primary": env.BuildkitHost}
	if oldest := os.Getenv("LADING_TEST_BUILDKIT_HOST_OLDEST"); oldest != "" {
		addrs["oldest"] = oldest
	} else if testenv.Required() {
		t.Fatal("LADING_TEST_BUILDKIT_HOST_OLDEST is not set: eval \"$(hack/testenv.sh env)\"")
	}
	for name, addr := range addrs {
		t.Run(name, func(t *testing.T) {
			e, err := Connect(t.Context(), WithAddress(addr), Silent(), WithProgress(ProgressQuiet),
				WithInsecureRegistry(env.Registry), WithSourceDateEpoch(time.Unix(1704164645, 0)))
			require.NoError(t, err)
			t.Cleanup(func() { e.Close() })
			v := e.engineVersion(t.Context())
			require.NotEmpty(t, v)
			assert.False(t, olderThan(v, featureProvenance.minVersion), "%s is %s", addr, v)
			ref := env.Registry + "/lading-test/caps:" + uniqueTag(t)
			_, err = e.Publish(t.Context(), ltContainer(t).WithNewFile("/caps", uniqueTag(t)), ref)
			require.NoError(t, err)
			img, err := inspect.Read(t.Context(), ref)
			require.NoError(t, err)
			require.Len(t, img.Platforms, 1)
			require.NotNil(t, img.Platforms[0].Provenance, "BuildKit %s attaches provenance", v)
			assert.Equal(t, inspect.PredicateSLSA1, img.Platforms[0].Provenance.PredicateType)
		})
	}
}

// An engine older than a feature fails the build before anything is
// solved, with the error naming the feature, the version it needs, the
// engine's address and its version. The old engine is BuildKit v0.12.5
// (the oldest the Go module proxy serves that builds here), which the test
// environment builds (LADING_TEST_BUILDKITD_OLD). Without it the test is
// skipped, except under LADING_REQUIRE_ENGINE=1 (CI), where it fails.
func TestCapabilityErrorsOnOldEngine(t *testing.T) {
	e, v, env := oldEngine(t)
	c := ltContainer(t).WithNewFile("/old", uniqueTag(t))

	for _, tc := range []struct {
		name    string
		eng     *Engine
		out     func() Output
		feature string
		needs   string
	}{
		{"provenance", e, func() Output { return Registry(env.Registry + "/lading-test/old:" + uniqueTag(t)) }, featureProvenance.name, "v0.23.0"},
		{"sbom", e.With(WithProvenance(ProvenanceOff), WithSBOM("")), func() Output { return OCITarball(filepath.Join(t.TempDir(), "a.tar")) }, "", ""},
		{"epoch", e.With(WithProvenance(ProvenanceOff), WithSourceDateEpoch(time.Unix(1704164645, 0))), func() Output { return OCITarball(filepath.Join(t.TempDir(), "b.tar")) }, featureRewriteTimestamp.name, "v0.13.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.eng.Build(t.Context(), c, tc.out())
			if tc.feature == "" {
				// SBOM attestations exist since v0.11: the check passes,
				// and the build goes on to pull the scanner.
				var ce *CapabilityError
				assert.NotErrorAs(t, err, &ce)
				return
			}
			var ce *CapabilityError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.feature, ce.Feature)
			assert.Equal(t, tc.needs, ce.Needs)
			assert.Equal(t, v, ce.Version)
			assert.Equal(t, e.Address(), ce.Address)
			assert.Contains(t, err.Error(), "this build needs BuildKit ≥ "+tc.needs+" for "+tc.feature+"; the engine at "+e.Address()+" is "+v)
		})
	}

	// BuildKit's source policy session came in v0.26: a policy on the old
	// engine fails before solving, with the engine's version and address.
	t.Run("source policy", func(t *testing.T) {
		pe := e.With(WithProvenance(ProvenanceOff), WithSourcePolicy(func(Source) Decision { return Allow() }))
		_, err := pe.Build(t.Context(), c, OCITarball(filepath.Join(t.TempDir(), "p.tar")))
		var pu *PolicyUnsupportedError
		require.ErrorAs(t, err, &pu)
		assert.Equal(t, v, pu.Version)
		assert.Equal(t, e.Address(), pu.Address)
		assert.Contains(t, err.Error(), "source policy needs BuildKit ≥ v0.26; this engine is "+v+" at "+e.Address())
	})

	// Without what it lacks, the old engine builds.
	plain := e.With(WithProvenance(ProvenanceOff))
	_, err := plain.Build(t.Context(), c, OCITarball(filepath.Join(t.TempDir(), "c.tar")))
	require.NoError(t, err)
}

// oldEngine starts a local engine on BuildKit v0.12.5 for the test and
// connects to it; it returns the engine, its version and the test
// environment (read before the local engine's settings clear it).
func oldEngine(t *testing.T) (*Engine, string, testenv.Env) {
	t.Helper()
	bin := os.Getenv("LADING_TEST_BUILDKITD_OLD")
	if _, err := os.Stat(bin); bin == "" || err != nil {
		if os.Getenv("LADING_REQUIRE_ENGINE") == "1" {
			t.Fatalf("LADING_TEST_BUILDKITD_OLD=%q: no buildkitd v0.12.x (hack/testenv.sh up builds it)", bin)
		}
		t.Skip("LADING_TEST_BUILDKITD_OLD (a buildkitd v0.12.x) is not set; see hack/README.md")
	}
	env := testenv.Require(t)
	testenv.Buildkitd(t) // root and runc, or skip
	isolateLocal(t)
	_, err := StartLocal(t.Context(), WithBuildkitd(bin), Silent(),
		WithRegistryMirror("docker.io", env.Registry), WithInsecureRegistry(env.Registry))
	require.NoError(t, err)
	e, err := Connect(t.Context(), Silent(), WithProgress(ProgressQuiet), WithoutAutoStart(), WithInsecureRegistry(env.Registry))
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	v := e.engineVersion(t.Context())
	require.Contains(t, v, "v0.12.")
	return e, v, env
}
