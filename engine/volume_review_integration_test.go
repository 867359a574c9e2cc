package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// A volume holding a symbolic link, unchanged since its save, uploads
// nothing.
func TestCacheVolumeWithSymlinkUnchangedIsNotSaved(t *testing.T) {
	t.Parallel()
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("symlink-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	_, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; ln -s x /data/link; ln -s /nowhere /data/dangling; echo one"))
	require.NoError(t, err)
	first := tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol))
	require.NotEmpty(t, first)
	_, err = e.output(t.Context(), volumeWriter(vol, "echo two"))
	require.NoError(t, err)
	assert.Equal(t, first, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "an unchanged volume with links is not pushed")
}

// Directories, modes and owners travel as the volume holds them: a step
// running as a user can write into the subdirectories it made, after a
// restore on a fresh engine; a mode-only change is saved.
func TestCacheVolumeKeepsOwnersAndModes(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("owner-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	user := func(script string) *sdk.Container {
		return sdk.From("debian:bookworm").
			WithUser("1000:1000").
			WithMountedCache("/data", vol, sdk.Owner(1000, 1000)).
			WithExec([]string{"sh", "-c", script})
	}
	_, err := e.output(t.Context(), user("mkdir -p /data/sub/deep && chmod 0700 /data/sub && echo a > /data/sub/deep/f && echo s > /data/script && echo one"))
	require.NoError(t, err)
	// A mode-only change: same contents, same time.
	_, err = e.output(t.Context(), user("touch -r /data/script /data/ref && chmod 0755 /data/script && touch -r /data/ref /data/script && rm /data/ref && echo two"))
	require.NoError(t, err)

	fresh := secondEngine(t, env.Registry, WithCache(cache.ReadOnly()))
	res, err := fresh.output(t.Context(), user("echo b > /data/sub/deep/g && stat -c '%a %u:%g %n' /data/sub /data/sub/deep /data/script"))
	require.NoError(t, err, "the user's own directories stay writable after a restore")
	assert.Equal(t, "700 1000:1000 /data/sub\n755 1000:1000 /data/sub/deep\n755 1000:1000 /data/script\n", res.stdout)
}
