package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestLockOnOldEngine: locking a Git ref or a download on an engine that
// cannot resolve them (BuildKit v0.12.5) says which BuildKit it needs, and
// the engine's version and address, instead of "the engine returned no
// commit" (before the fix); images still lock.
func TestLockOnOldEngine(t *testing.T) {
	e, v, _ := oldEngine(t)

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
