package engine

import (
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// writeTree creates files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// sendAll does what BuildKit's file sync does with a host directory: the
// filter the daemon asks for (with lading's LocalFilterOpt hook), a walk,
// and a read of the files in want (all regular files when want is nil).
func sendAll(t *testing.T, u *uploads, mounts map[string]fsutil.FS, name string, exclude []string, want map[string]bool) {
	t.Helper()
	opt := &fsutil.FilterOpt{ExcludePatterns: exclude}
	require.NoError(t, u.filterOpt(name, opt))
	fs, err := fsutil.NewFilterFS(mounts[name], opt)
	require.NoError(t, err)
	var files []string
	require.NoError(t, fs.Walk(t.Context(), "", func(p string, e gofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() && (want == nil || want[p]) {
			files = append(files, p)
		}
		return nil
	}))
	for _, p := range files {
		rc, err := fs.Open(p)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	}
}

func TestUploadCountsWhatIsReadAndHints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.go":             "package main\n",
		"src/a.go":            strings.Repeat("a", 3000),
		"src/b.go":            strings.Repeat("b", 1000),
		".git/HEAD":           "ref: refs/heads/main\n",
		".git/objects/ab/cd":  strings.Repeat("x", 500),
		"node_modules/x/y.js": "y",
		".env":                "TOKEN=1",
		"keys/deploy.pem":     "-----BEGIN-----",
		"ignored/big.bin":     strings.Repeat("z", 10000),
	})
	locals := []lllb.LocalDir{{Name: "host-1", Path: dir}}
	mounts, err := localMounts(locals)
	require.NoError(t, err)
	u := newUploads(locals, mounts)

	sendAll(t, u, mounts, "host-1", []string{"ignored"}, nil)
	ups := u.list()
	require.Len(t, ups, 1)
	up := ups[0]
	assert.Equal(t, dir, up.Path)
	assert.Equal(t, 8, up.ContextFiles, "every regular file but the excluded one")
	assert.Equal(t, 8, up.Files)
	assert.Equal(t, up.ContextBytes, up.Bytes)
	assert.Equal(t, int64(len("package main\n")+3000+1000+len("ref: refs/heads/main\n")+500+1+7+15), up.Bytes)
	require.NotEmpty(t, up.Largest)
	assert.Equal(t, "src/", up.Largest[0].Path)
	assert.Equal(t, int64(4000), up.Largest[0].ContextBytes)
	for _, s := range up.Largest {
		assert.NotEqual(t, "ignored/", s.Path, "an excluded subtree is not sent")
	}
	hints := strings.Join(up.Hints, "\n")
	assert.Contains(t, hints, "sends .git/, version control metadata (2 files")
	assert.Contains(t, hints, "sends node_modules/, installed dependencies (1 file")
	assert.Contains(t, hints, "sends .env, a credential file")
	assert.Contains(t, hints, "sends keys/deploy.pem, a credential file")
	assert.Contains(t, hints, `sdk.Exclude(".git/")`)
	assert.NotContains(t, hints, "objects", "a hinted directory's own contents are not hinted again")
	line := up.String()
	assert.True(t, strings.HasPrefix(line, "upload "+dir+": 8 of 8 files sent, 4.6 kB of 4.6 kB; largest: src/ 4.0 kB"), line)
}

func TestUploadCountsOnlyWhatTheEngineAsksFor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "aaaa", "b": "bb", "c/d": "d"})
	locals := []lllb.LocalDir{{Name: "h", Path: dir}}
	mounts, err := localMounts(locals)
	require.NoError(t, err)
	u := newUploads(locals, mounts)
	// The engine already has a and c/d: it reads only b.
	sendAll(t, u, mounts, "h", nil, map[string]bool{"b": true})
	up := u.list()[0]
	assert.Equal(t, 3, up.ContextFiles)
	assert.Equal(t, 4, up.Entries, "three files and the directory c")
	assert.Equal(t, 1, up.Files)
	assert.Equal(t, int64(2), up.Bytes)
	assert.Equal(t, int64(7), up.ContextBytes)
	assert.Empty(t, up.Hints)
}

func TestUploadEmptyFileCounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"empty": ""})
	locals := []lllb.LocalDir{{Name: "h", Path: dir}}
	mounts, err := localMounts(locals)
	require.NoError(t, err)
	u := newUploads(locals, mounts)
	sendAll(t, u, mounts, "h", nil, nil)
	assert.Equal(t, 1, u.list()[0].Files)
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 4500: "4.5 kB", 12_300_000: "12.3 MB", 2_000_000_000: "2.0 GB"} {
		assert.Equal(t, want, formatBytes(n), "%d", n)
	}
}

func BenchmarkUploadEntry(b *testing.B) {
	c := newUploadCounter(lllb.LocalDir{Name: "h", Path: "/src"})
	st := &fstypes.Stat{Path: "pkg/sub/file.go", Mode: 0o644, Size: 1234}
	c.entry(".git", &fstypes.Stat{Path: ".git", Mode: uint32(os.ModeDir | 0o755)})
	for b.Loop() {
		c.entry(st.Path, st)
	}
}
