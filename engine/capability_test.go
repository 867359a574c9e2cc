package engine

import (
	"fmt"
	"testing"

	"github.com/moby/buildkit/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOlderThan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		have, want string
		older      bool
	}{
		{"v0.12.5", "v0.13.0", true},
		{"v0.13.0", "v0.13.0", false},
		{"v0.34.2", "v0.23.0", false},
		{"v0.22.9", "v0.23.0", true},
		{"0.9.0", "v0.10.0", true},
		{"v1.0.0", "v0.99.0", false},
		{"v0.12.5-rc1", "v0.13.0", true},
		{"v0.33.1+dirty", "v0.23.0", false},
		{"", "v0.23.0", false},              // an engine that does not say
		{"depot-2026.11", "v0.23.0", false}, // a fork: its caps decide
		{"v0.34", "v0.23.0", false},
	} {
		t.Run(fmt.Sprintf("%s<%s", tc.have, tc.want), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.older, olderThan(tc.have, tc.want))
		})
	}
}

func TestCapabilityErrorMessage(t *testing.T) {
	t.Parallel()
	err := error(&CapabilityError{Feature: "SLSA v1 provenance attestations", Needs: "v0.23.0", Address: "unix:///run/bk.sock", Version: "v0.12.5"})
	assert.Equal(t, `this build needs BuildKit ≥ v0.23.0 for SLSA v1 provenance attestations; the engine at unix:///run/bk.sock is v0.12.5; upgrade the engine (see docs/troubleshooting.md, "this build needs BuildKit")`, err.Error())
	var ce *CapabilityError
	require.ErrorAs(t, fmt.Errorf("build: %w", err), &ce)
	assert.Equal(t, "v0.12.5", ce.Version)

	err = &CapabilityError{Feature: "SBOM attestations", Needs: "v0.11.0", Address: "tcp://fork:1234", Missing: []string{"reference.attestations"}}
	assert.Contains(t, err.Error(), "the engine at tcp://fork:1234 is of unknown version and does not report reference.attestations")
}

// missingCaps is checked against real BuildKit cap sets: the one a v0.34
// gateway reports, and one without the attestation cap (a fork or an old
// engine).
func TestMissingCaps(t *testing.T) {
	t.Parallel()
	full := gatewaypb.Caps.CapSet(gatewaypb.Caps.All())
	var without []*apicaps.PBCap
	for _, c := range gatewaypb.Caps.All() {
		if c.ID != string(gatewaypb.CapAttestations) {
			without = append(without, c)
		}
	}
	lacking := gatewaypb.Caps.CapSet(without)
	var none apicaps.CapSet
	assert.Empty(t, missingCaps(featureProvenance, full, none))
	assert.Equal(t, []string{"reference.attestations"}, missingCaps(featureProvenance, lacking, none))
	assert.Empty(t, missingCaps(featureRewriteTimestamp, lacking, none), "a feature with no caps is decided by version alone")
}

func TestAttestable(t *testing.T) {
	t.Parallel()
	x := func(typ string) *export { return &export{entry: client.ExportEntry{Type: typ}} }
	for _, tc := range []struct {
		name    string
		exports []*export
		ok      bool
		reason  string
	}{
		{"none", nil, false, ""},
		{"registry", []*export{x(client.ExporterImage)}, true, ""},
		{"oci", []*export{x(client.ExporterOCI)}, true, ""},
		{"registry and oci", []*export{x(client.ExporterImage), x(client.ExporterOCI)}, true, ""},
		{"docker only", []*export{x(client.ExporterDocker)}, false, ""},
		{"local only", []*export{x(client.ExporterLocal)}, false, ""},
		{"oci and docker", []*export{x(client.ExporterOCI), x(client.ExporterDocker)}, false, "a Docker tarball or DockerLoad/PodmanLoad cannot hold them"},
		{"registry and local", []*export{x(client.ExporterImage), x(client.ExporterLocal)}, false, "a LocalPath output would receive them as files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, reason := attestable(tc.exports)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.reason, reason)
		})
	}
}

func TestSBOMEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want sbomMode
		err  string
	}{
		{"", sbomMode{scanner: DefaultSBOMScanner}, ""},
		{"off", sbomMode{}, ""},
		{"on", sbomMode{scanner: DefaultSBOMScanner, asked: true}, ""},
		{"registry.example.com/scanner:1", sbomMode{scanner: "registry.example.com/scanner:1", asked: true}, ""},
		{"Not A Ref", sbomMode{}, `LADING_SBOM="Not A Ref": want on, off or a scanner image`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("LADING_SBOM", tc.env)
			_, got, err := attestSettings{}.modes()
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	t.Setenv("LADING_SBOM", "on")
	_, got, err := attestSettings{sbomSet: true}.modes()
	require.NoError(t, err)
	assert.Equal(t, sbomMode{}, got, "WithoutSBOM wins over the env")
	s := defaultSettings()
	WithSBOM("")(&s)
	t.Setenv("LADING_SBOM", "off")
	_, got, err = s.attest.modes()
	require.NoError(t, err)
	assert.Equal(t, sbomMode{scanner: DefaultSBOMScanner, asked: true}, got, "WithSBOM wins over the env and is asked for")
}

func TestWithSBOMRefusesABadScanner(t *testing.T) {
	t.Parallel()
	s := defaultSettings()
	WithSBOM("UPPER CASE")(&s)
	require.Error(t, s.err)
	assert.Contains(t, s.err.Error(), `engine.WithSBOM: scanner image "UPPER CASE"`)
}

// A source policy is one more feature on the shared capability path: an
// engine whose version predates the policy session is refused before
// solving, with the policy's own error; one that does not report the
// session's cap is refused inside the build.
func TestSourcePolicyIsAFeature(t *testing.T) {
	t.Parallel()
	e := &Engine{c: &client.Client{}, addr: "unix:///run/buildkit.sock"}
	versions.Store(e.c, &versionOnce{known: true, version: "v0.25.1"})
	t.Cleanup(func() { forgetVersion(e.c) })
	err := e.require(t.Context(), featureGatewayEvaluate, featureSourcePolicy)
	var pu *PolicyUnsupportedError
	require.ErrorAs(t, err, &pu)
	assert.Equal(t, "v0.25.1", pu.Version)
	assert.Contains(t, err.Error(), "source policy needs BuildKit ≥ v0.26; this engine is v0.25.1 at unix:///run/buildkit.sock")

	var llbWithout []*apicaps.PBCap
	for _, c := range pb.Caps.All() {
		if c.ID != string(pb.CapSourcePolicySession) {
			llbWithout = append(llbWithout, c)
		}
	}
	gw := gatewaypb.Caps.CapSet(gatewaypb.Caps.All())
	assert.Empty(t, missingCaps(featureSourcePolicy, gw, pb.Caps.CapSet(pb.Caps.All())))
	assert.Equal(t, []string{string(pb.CapSourcePolicySession)}, missingCaps(featureSourcePolicy, gw, pb.Caps.CapSet(llbWithout)))
	err = featureSourcePolicy.error("", e.addr, nil)
	require.ErrorAs(t, err, &pu)
	assert.Equal(t, "of unknown version", pu.Version)

	names := func(fs []feature) (out []string) {
		for _, f := range fs {
			out = append(out, f.name)
		}
		return out
	}
	r := &run{e: e, guard: &guard{policy: &policyState{}}}
	assert.Contains(t, names(r.features()), featureSourcePolicy.name)
	r.guard = &guard{}
	assert.NotContains(t, names(r.features()), featureSourcePolicy.name)
}

// Close forgets the connection's engine version.
func TestCloseForgetsTheVersion(t *testing.T) {
	t.Parallel()
	c, err := client.New(t.Context(), "unix:///nonexistent/buildkitd.sock")
	require.NoError(t, err)
	e := &Engine{c: c}
	versions.Store(c, &versionOnce{known: true, version: "v0.34.2"})
	require.NoError(t, e.Close())
	_, ok := versions.Load(c)
	assert.False(t, ok, "the closed connection's version is gone")
}
