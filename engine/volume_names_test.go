package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Volume ids that are path names of their own stay inside the cache's
// volumes directory.
func TestVolumeDirStaysInVolumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seen := map[string]string{}
	for _, id := range []string{".", "..", "a.save-1", "a.tmp-2", "a.link-3", "go-build", "...", "root/.cache:pip"} {
		d := volumeDir(dir, id)
		assert.Equal(t, filepath.Join(dir, "volumes"), filepath.Dir(d), "%q", id)
		name := filepath.Base(d)
		assert.NotEqual(t, ".", name, "%q", id)
		assert.NotEqual(t, "..", name, "%q", id)
		for _, m := range []string{".save-", ".tmp-", ".link-"} {
			if !strings.Contains(id, m) {
				continue
			}
			assert.False(t, saveEntry(name, "a", m), "%q is no file of volume \"a\"", id)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("%q and %q share %s", id, other, name)
		}
		seen[name] = id
	}
}

// Saving one volume never removes another volume's saves, whatever their
// names, and a volume named like a save's own files saves and reads back.
func TestLocalSavesOfLookalikeVolumesStayApart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json.keep"), nil, 0o644))
	save := func(id, body string) {
		t.Helper()
		tmp, err := newLocalSaveDir(dir, id)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "index.json"), []byte(body), 0o644))
		require.NoError(t, commitLocalSave(dir, id, tmp))
	}
	read := func(id string) string {
		t.Helper()
		dt, err := os.ReadFile(filepath.Join(volumeDir(dir, id), "index.json"))
		require.NoError(t, err, "%q", id)
		return string(dt)
	}
	ids := []string{"a.save-1", "a.tmp-2", "a", "..", "x.tmp-1"}
	for _, id := range ids {
		save(id, "first "+id)
	}
	// Killed saves of the others, old enough to be removed by a's next save.
	old := time.Now().Add(-2 * staleSave)
	for _, id := range ids {
		if id != "a" {
			tmp, err := newLocalSaveDir(dir, id)
			require.NoError(t, err)
			require.NoError(t, os.Chtimes(tmp, old, old))
		}
	}
	for range 3 {
		save("a", "again")
	}
	for _, id := range ids {
		if id != "a" {
			assert.Equal(t, "first "+id, read(id))
		}
	}
	assert.Equal(t, "again", read("a"))
	assert.FileExists(t, filepath.Join(dir, "index.json.keep"), "nothing outside volumes/ is touched")
}

// A cache named twice (LADING_CACHE=local:/c,local:/c) is used once,
// writable if either names it so.
func TestTravelCachesNamedTwiceAreOne(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"local:/c,local:/c", "local:/c"},
		{"ro:local:/c,local:/c,registry:r.example.com/a:c", "local:/c registry:r.example.com/a:c"},
		{"ro:local:/c,ro:local:/c", "ro:local:/c"},
		{"local:/c,local:/d", "local:/c local:/d"},
	} {
		t.Setenv("LADING_CACHE", tc.env)
		e := &Engine{s: defaultSettings()}
		caches, err := e.travelCaches()
		require.NoError(t, err)
		var got []string
		for _, c := range caches {
			got = append(got, c.String())
		}
		assert.Equal(t, tc.want, strings.Join(got, " "), tc.env)
	}
}
