package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/inspect"
	"github.com/ladingbuild/lading/internal/testenv"
)

// defaultsEngine is an engine on the test environment with lading's own
// attestation defaults: unlike testEngine, it leaves SBOMs on.
func defaultsEngine(t *testing.T, opts ...Option) (*Engine, testenv.Env) {
	t.Helper()
	t.Setenv("LADING_SBOM", "")
	t.Setenv("LADING_PROVENANCE", "")
	env := testenv.Require(t)
	e, err := Connect(t.Context(), append([]Option{WithAddress(env.BuildkitHost), Silent(), WithProgress(ProgressQuiet), WithInsecureRegistry(env.Registry)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e, env
}

// withDefaultScanner makes ref the scanner of the default SBOM.
func withDefaultScanner(ref string) Option {
	return func(s *settings) { s.attest.defaultScanner = ref }
}

// An image pushed with no attestation option carries provenance and an
// SBOM from the default scanner (the test environment serves its
// stand-in through the docker.io mirror); an OCI tarball of it carries
// provenance only.
func TestSBOMByDefault(t *testing.T) {
	sbomScanner(t) // the test environment has pushed the scanner images
	e, env := defaultsEngine(t)
	ref := env.Registry + "/lading-test/attest-sbom-default:" + uniqueTag(t)
	v := ltContainer(t).WithNewFile("/x", uniqueTag(t))
	res, err := e.Build(t.Context(), v, Registry(ref))
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Warnings)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	require.Len(t, img.Platforms, 1)
	assert.NotNil(t, img.Platforms[0].Provenance)
	require.NotNil(t, img.Platforms[0].SBOM, "a pushed image gets an SBOM by default")
	assert.NotEmpty(t, img.Platforms[0].SBOM.Packages)

	tar := t.TempDir() + "/image.tar"
	_, err = e.Build(t.Context(), v, OCITarball(tar))
	require.NoError(t, err)
	timg, err := inspect.Read(t.Context(), tar)
	require.NoError(t, err)
	require.Len(t, timg.Platforms, 1)
	assert.NotNil(t, timg.Platforms[0].Provenance)
	assert.Nil(t, timg.Platforms[0].SBOM, "the default SBOM is for pushed images")
}

// When the default scanner cannot be resolved (an air-gapped site), the
// image is pushed with its provenance and without an SBOM, and the build
// says so once. A scanner the user names must run: the build fails and
// names it.
func TestSBOMFallsBackWhenTheScannerIsMissing(t *testing.T) {
	env := testenv.Require(t)
	missing := env.Registry + "/lading-test/no-such-scanner:1"
	e, _ := defaultsEngine(t, withDefaultScanner(missing))
	ref := env.Registry + "/lading-test/attest-sbom-fallback:" + uniqueTag(t)
	v := ltContainer(t).WithNewFile("/x", uniqueTag(t))
	res, err := e.Build(t.Context(), v, Registry(ref))
	require.NoError(t, err, "a missing default scanner never fails the push")
	var sbomWarnings []string
	for _, w := range res.Summary.Warnings {
		if strings.Contains(w, "SBOM") {
			sbomWarnings = append(sbomWarnings, w)
		}
	}
	require.Len(t, sbomWarnings, 1, "one warning: %q", res.Summary.Warnings)
	assert.Contains(t, sbomWarnings[0], "published without an SBOM")
	assert.Contains(t, sbomWarnings[0], missing)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	require.Len(t, img.Platforms, 1)
	assert.NotNil(t, img.Platforms[0].Provenance, "provenance is still attached")
	assert.Nil(t, img.Platforms[0].SBOM)

	_, err = e.With(WithSBOM(missing)).Build(t.Context(), v, Registry(ref+"-asked"))
	require.Error(t, err, "a scanner asked for must run")
	assert.Contains(t, err.Error(), "making the SBOM with the scanner image")
	assert.Contains(t, err.Error(), missing)
	assert.Contains(t, err.Error(), "engine.WithoutSBOM")
}

// Each platform of a multi-platform push gets its own SBOM, scanned by
// the scanner on the engine's platform; with provenance off, the SBOM is
// still attached.
func TestMultiPlatformSBOM(t *testing.T) {
	scanner := sbomScanner(t)
	e, env := defaultsEngine(t, WithPlatforms("linux/amd64", "linux/arm64"), WithProvenance(ProvenanceOff), WithSBOM(scanner))
	ref := env.Registry + "/lading-test/attest-sbom-multi:" + uniqueTag(t)
	_, err := e.Publish(t.Context(), ltContainer(t).WithNewFile("/x", uniqueTag(t)), ref)
	require.NoError(t, err)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	var platforms []string
	for _, p := range img.Platforms {
		platforms = append(platforms, p.Platform)
		assert.Nil(t, p.Provenance, p.Platform)
		require.NotNil(t, p.SBOM, p.Platform)
		var purls []string
		for _, pkg := range p.SBOM.Packages {
			purls = append(purls, pkg.PURL)
		}
		assert.Contains(t, purls, "pkg:golang/github.com/ladingbuild/lading", p.Platform)
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, platforms)
}
