package engine

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// TestLockOnOldEngine: locking a Git ref or a download on an engine that
// cannot resolve them (BuildKit v0.12.5) says which BuildKit it needs, and
// the engine's version and address, instead of "the engine returned no
// commit" (before the fix); images still lock.
func TestLockOnOldEngine(t *testing.T) {
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

	url, content := fileServer(t)
	content.Store("x")
	gitURL, commit := gitServer(t)
	commit("one")
	for name, value := range map[string]sdk.Value{
		"download": sdk.Scratch().WithFile("/m", sdk.HTTP(url, "")),
		"git":      sdk.Scratch().WithDirectory("/", sdk.Git(gitURL, "main")),
	} {
		_, err := e.Lock(t.Context(), value)
		var ce *CapabilityError
		require.ErrorAs(t, err, &ce, name)
		assert.Equal(t, "v0.26.0", ce.Needs, name)
		assert.Equal(t, v, ce.Version, name)
		assert.Equal(t, e.Address(), ce.Address, name)
	}
	f, err := e.Lock(t.Context(), sdk.From("debian:bookworm"))
	require.NoError(t, err)
	assert.Len(t, f.Images(), 1)
}
