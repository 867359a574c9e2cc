package explain

import (
	"context"
	gofs "io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tonistiigi/fsutil"
)

// walkHost lists exactly what fsutil's own walk lists (BuildKit's local
// source sends that), for patterns of every kind.
func TestWalkHostListsWhatFsutilSends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "a/x.go", "a/b/y.go", "a/b/c/z.txt", "node_modules/m/i.js", ".git/HEAD", "docs/r.md", "docs/keep.md"} {
		p := filepath.Join(dir, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(f), 0o644))
	}
	require.NoError(t, os.Symlink("a/x.go", filepath.Join(dir, "link")))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "empty"), 0o755))
	cases := []struct{ include, exclude []string }{
		{},
		{include: []string{"a"}},
		{include: []string{"go.mod", "a/b"}},
		{include: []string{"a/**/*.go"}},
		{exclude: []string{".git", "node_modules/"}},
		{exclude: []string{"docs", "!docs/keep.md"}},
		{include: []string{"a", "docs"}, exclude: []string{"a/b/c"}},
		{exclude: []string{"**/*.go"}},
	}
	for _, tc := range cases {
		var want []string
		err := fsutil.WalkDir(context.Background(), dir, &fsutil.FilterOpt{IncludePatterns: tc.include, ExcludePatterns: tc.exclude},
			func(p string, _ gofs.DirEntry, err error) error {
				want = append(want, filepath.ToSlash(p))
				return err
			})
		require.NoError(t, err)
		var got []string
		require.NoError(t, walkHost(t.Context(), dir, tc.include, tc.exclude, func(f File) error {
			got = append(got, f.Path)
			return nil
		}))
		require.Equal(t, want, got, "include %q exclude %q", tc.include, tc.exclude)
	}
}
