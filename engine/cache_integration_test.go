package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// secondEngine starts a fresh local engine with its own state directory,
// pulling from and pushing to the test registry over plain HTTP.
func secondEngine(t *testing.T, registry string, opts ...Option) *Engine {
	t.Helper()
	bin := testenv.Buildkitd(t)
	isolateLocal(t)
	_, err := StartLocal(t.Context(), WithBuildkitd(bin), Silent(),
		WithRegistryMirror("docker.io", registry), WithInsecureRegistry(registry))
	require.NoError(t, err)
	opts = append([]Option{Silent(), WithProgress(ProgressQuiet), WithoutAutoStart(), WithInsecureRegistry(registry)}, opts...)
	e, err := Connect(t.Context(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

func TestRegistryCacheSharedByTwoEngines(t *testing.T) {
	_, env := testEngine(t)
	cache := RegistryCache(env.Registry + "/lading-test/cache:" + uniqueTag(t))
	first, _ := testEngine(t, WithCacheTo(cache))
	c := ltContainer(t).
		WithExec([]string{"/bin/lt", "echo", "one", uniqueTag(t)}).
		WithExec([]string{"/bin/lt", "echo", "two"})
	res, err := first.Build(t.Context(), c)
	require.NoError(t, err)
	assert.False(t, findStep(t, res.Summary, "exec /bin/lt echo two").Cached)

	second := secondEngine(t, env.Registry, WithCacheFrom(cache))
	res, err = second.Build(t.Context(), c)
	require.NoError(t, err)
	for _, st := range res.Summary.Steps {
		if st.StepID != "" && st.Name[:4] == "exec" {
			assert.True(t, st.Cached, "step %s cached from the registry", st.Name)
		}
	}
	assert.True(t, findStep(t, res.Summary, "exec /bin/lt echo one").Cached)
	assert.True(t, findStep(t, res.Summary, "exec /bin/lt echo two").Cached)
}

func TestLocalCacheRoundTrip(t *testing.T) {
	_, env := testEngine(t)
	dir := filepath.Join(t.TempDir(), "cache")
	first, _ := testEngine(t, WithCacheTo(LocalCache(dir)))
	c := ltContainer(t).WithExec([]string{"/bin/lt", "echo", "local", uniqueTag(t)})
	_, err := first.Build(t.Context(), c)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "index.json"))

	second := secondEngine(t, env.Registry, WithCacheFrom(LocalCache(dir)))
	res, err := second.Build(t.Context(), c)
	require.NoError(t, err)
	assert.True(t, findStep(t, res.Summary, "exec /bin/lt echo local").Cached)
}

func TestReproducibleBuildsOnTwoEngines(t *testing.T) {
	_, env := testEngine(t)
	epoch := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	// Byte-identical archives: without attestations, whose provenance is
	// dated by the build (attest_integration_test.go covers them).
	first, _ := testEngine(t, WithSourceDateEpoch(epoch), WithProvenance(ProvenanceOff))
	// Every step is new to both engines: an image's history names each
	// layer after the step that first built it, call site included, so a
	// layer cached by an earlier run (of an older version of this file)
	// would carry that run's line numbers.
	c := ltContainer(t).
		WithNewFile("/etc/app.conf", "x=1\nrun="+uniqueTag(t)).
		WithExec([]string{"/bin/lt", "write", "/built", uniqueTag(t)}).
		WithEntrypoint("/bin/lt")
	dir := t.TempDir()
	r1, err := first.Build(t.Context(), c, OCITarball(filepath.Join(dir, "a.tar")))
	require.NoError(t, err)
	second := secondEngine(t, env.Registry, WithSourceDateEpoch(epoch), WithProvenance(ProvenanceOff))
	r2, err := second.Build(t.Context(), c, OCITarball(filepath.Join(dir, "b.tar")))
	require.NoError(t, err)
	assert.Equal(t, r1.Digest, r2.Digest)
	a, _ := os.ReadFile(filepath.Join(dir, "a.tar"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.tar"))
	assert.Equal(t, a, b, "byte-identical archives")
}

func TestParseCacheList(t *testing.T) {
	got, err := parseCacheList("X", "registry:r.example.com/app:cache, local:/tmp/c")
	require.NoError(t, err)
	assert.Equal(t, []Cache{RegistryCache("r.example.com/app:cache"), LocalCache("/tmp/c")}, got)
	_, err = parseCacheList("X", "s3:bucket")
	require.ErrorContains(t, err, "not registry:REF or local:DIR")
	got, err = parseCacheList("X", "")
	require.NoError(t, err)
	assert.Empty(t, got)
}
