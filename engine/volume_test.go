package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLadingCache(t *testing.T) {
	t.Parallel()
	got, err := parseCacheList("LADING_CACHE", "registry:r.example.com/app:cache, ro:registry:r.example.com/app:main,local:/tmp/c,ro:local:/tmp/d")
	require.NoError(t, err)
	assert.Equal(t, []Cache{
		RegistryCache("r.example.com/app:cache"), RegistryCache("r.example.com/app:main").ReadOnly(),
		LocalCache("/tmp/c"), LocalCache("/tmp/d").ReadOnly(),
	}, got)
	assert.Equal(t, "ro:registry:r.example.com/app:main", got[1].String())
	_, err = parseCacheList("LADING_CACHE_FROM", "ro:local:/tmp/d")
	require.ErrorContains(t, err, "the ro: prefix belongs in LADING_CACHE")
	_, err = parseCacheList("LADING_CACHE", "ro:s3:bucket")
	require.ErrorContains(t, err, "not registry:REF or local:DIR")
}

func TestVolumeRef(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ cache, vol, want string }{
		{"r.example.com/app:cache", "go-build", "r.example.com/app:cache-vol-go-build"},
		{"r.example.com/app", "m2", "r.example.com/app:latest-vol-m2"},
		{"127.0.0.1:5000/team/app:ci", "npm", "127.0.0.1:5000/team/app:ci-vol-npm"},
	} {
		got, err := volumeRef(tc.cache, tc.vol)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	odd, err := volumeRef("r.example.com/app:cache", "root/.cache:pip")
	require.NoError(t, err)
	assert.Regexp(t, `^r\.example\.com/app:cache-vol-root_\.cache_pip-[0-9a-f]{8}$`, odd)
	other, err := volumeRef("r.example.com/app:cache", "root/.cache/pip")
	require.NoError(t, err)
	assert.NotEqual(t, odd, other, "two ids never share a tag")
	_, err = volumeRef("Not A Ref", "x")
	require.Error(t, err)
}

func TestCommitLocalSaveReplacesInOneRename(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	save := func(body string) {
		tmp, err := newLocalSaveDir(dir, "v")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "index.json"), []byte(body), 0o644))
		require.NoError(t, commitLocalSave(dir, "v", tmp))
		// Older than a concurrent saver's: the next save may remove it.
		old := time.Now().Add(-2 * youngSave)
		require.NoError(t, os.Chtimes(volumeDir(dir, "v"), old, old))
	}
	for _, body := range []string{"one", "two", "three"} {
		save(body)
		dt, err := os.ReadFile(filepath.Join(volumeDir(dir, "v"), "index.json"))
		require.NoError(t, err)
		assert.Equal(t, body, string(dt))
	}
	entries, err := os.ReadDir(filepath.Join(dir, "volumes"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Len(t, names, 3, "the link, the last save and the one before: %v", names)
}

func TestNewLocalSaveDirRemovesKilledSaves(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale, err := newLocalSaveDir(dir, "v")
	require.NoError(t, err)
	old := time.Now().Add(-2 * staleSave)
	require.NoError(t, os.Chtimes(stale, old, old))
	recent, err := newLocalSaveDir(dir, "v")
	require.NoError(t, err)
	_, err = newLocalSaveDir(dir, "v")
	require.NoError(t, err)
	assert.NoDirExists(t, stale, "a killed save's remains are removed")
	assert.DirExists(t, recent, "a save under way is kept")
}
