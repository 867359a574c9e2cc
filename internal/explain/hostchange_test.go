package explain_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/explain"
	"github.com/ladingbuild/lading/sdk"
)

// TestHostChangesTheBuildersDidNotList: every change that alters what
// BuildKit copies (its content hash covers directories, modes and link
// targets) names the path that changed, in the explanation and in the
// reason not to skip — never an empty cause or "unknown".
func TestHostChangesTheBuildersDidNotList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   string
	}{
		{"a new empty directory", func(t *testing.T, dir string) {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "empty"), 0o755))
		}, "1 file of host %s changed: empty/ (added)"},
		{"a removed empty directory", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "keep")))
		}, "changed: keep/ (removed)"},
		{"a directory's mode", func(t *testing.T, dir string) {
			require.NoError(t, os.Chmod(filepath.Join(dir, "lib"), 0o700))
		}, "changed: lib/ (mode drwxr-xr-x → drwx------)"},
		{"a file's mode only", func(t *testing.T, dir string) {
			require.NoError(t, os.Chmod(filepath.Join(dir, "main.go"), 0o755))
		}, "changed: main.go (mode -rw-r--r-- → -rwxr-xr-x)"},
		{"a symlink's target", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "link")))
			require.NoError(t, os.Symlink("lib", filepath.Join(dir, "link")))
		}, "changed: link"},
		{"a renamed file", func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(filepath.Join(dir, "lib/lib.go"), filepath.Join(dir, "lib/util.go")))
		}, "2 files of host %s changed: lib/lib.go (removed), lib/util.go (added)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := srcDir(t)
			require.NoError(t, os.Mkdir(filepath.Join(dir, "keep"), 0o755))
			require.NoError(t, os.Symlink("main.go", filepath.Join(dir, "link")))
			require.NoError(t, os.Chmod(filepath.Join(dir, "lib"), 0o755))
			require.NoError(t, os.Chmod(filepath.Join(dir, "main.go"), 0o644))
			age(t, dir)
			prev := record(t, graph(pinned, "a", dir), nil)
			tc.change(t, dir)
			cur := record(t, graph(pinned, "a", dir), prev)
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, dir)
			}
			rs := explain.Reruns(prev, cur)
			require.Len(t, rs, 2, "the copy and the exec re-run: %v", rs)
			assert.Equal(t, "copy / /src", rs[0].Step.Name)
			assert.Contains(t, rs[0].Why, want)
			why, ok := explain.Unchanged(prev, cur)
			assert.False(t, ok)
			assert.Contains(t, why, "host files changed: ")
			assert.Contains(t, why, want)
		})
	}
}

// TestRemovedStep: removing a step in the middle re-runs the step after
// it, which now reads another step; before the fix the offline
// comparison listed no re-run and the engine said "unknown".
func TestRemovedStep(t *testing.T) {
	t.Parallel()
	v := func(mid bool) *sdk.Container {
		c := sdk.From(pinned).WithExec([]string{"make", "deps"})
		if mid {
			c = c.WithExec([]string{"make", "gen"})
		}
		return c.WithExec([]string{"make", "build"})
	}
	prev, cur := record(t, v(true), nil), record(t, v(false), nil)
	rs := explain.Reruns(prev, cur)
	require.Len(t, rs, 1, "%v", rs)
	assert.Equal(t, "exec make build", rs[0].Step.Name)
	assert.Regexp(t, `^it now reads exec make deps at explain/hostchange_test.go:\d+, where the last build's step read exec make gen at explain/hostchange_test.go:\d+ \(explain/hostchange_test.go:\d+\)$`, rs[0].Why)
}

// TestSkipSeesContentBehindARestoredTime: a file rewritten with the same
// size and its modification time set back (tar, rsync -t, a checkout
// tool) keeps its stat but for the change time: it is read again, and
// the skip check sees the new content. A file changed and changed back
// is the same content: that skips, as BuildKit's cache would hit.
func TestSkipSeesContentBehindARestoredTime(t *testing.T) {
	t.Parallel()
	dir := srcDir(t)
	main := filepath.Join(dir, "main.go")
	prev := record(t, graph(pinned, "a", dir), nil)
	info, err := os.Stat(main)
	require.NoError(t, err)
	write(t, main, "package niam\n") // same size
	require.NoError(t, os.Chtimes(main, info.ModTime(), info.ModTime()))
	cur := record(t, graph(pinned, "a", dir), prev)
	why, ok := explain.Unchanged(prev, cur)
	assert.False(t, ok)
	assert.Contains(t, why, "changed: main.go")

	write(t, main, "package main\n")
	require.NoError(t, os.Chtimes(main, info.ModTime(), info.ModTime()))
	back := record(t, graph(pinned, "a", dir), cur)
	why, ok = explain.Unchanged(prev, back)
	assert.True(t, ok, why)
}

// TestInsertedStep: a step inserted between two others is new, not the
// old step at its position with other arguments; the step after it runs
// again because it reads the new one.
func TestInsertedStep(t *testing.T) {
	t.Parallel()
	v := func(mid bool) *sdk.Container {
		c := sdk.From(pinned).WithExec([]string{"make", "deps"})
		if mid {
			c = c.WithExec([]string{"make", "gen"})
		}
		return c.WithExec([]string{"make", "build"})
	}
	prev, cur := record(t, v(false), nil), record(t, v(true), nil)
	rs := explain.Reruns(prev, cur)
	require.Len(t, rs, 2, "%v", rs)
	assert.Equal(t, "exec make gen", rs[0].Step.Name)
	assert.Regexp(t, `^a new step: the last build had no exec step at this line`, rs[0].Why)
	assert.Equal(t, "exec make build", rs[1].Step.Name)
	assert.Regexp(t, `^its parent step exec make gen at explain/hostchange_test.go:\d+ runs again`, rs[1].Why)
}

// TestMovedMount: a mount whose target changed is named as moved, not as
// one added (and one removed).
func TestMovedMount(t *testing.T) {
	t.Parallel()
	v := func(target string) *sdk.Container {
		return sdk.From(pinned).WithMountedTemp(target).WithExec([]string{"make"})
	}
	rs := explain.Reruns(record(t, v("/tmp"), nil), record(t, v("/scratch"), nil))
	require.Len(t, rs, 1, "%v", rs)
	assert.Regexp(t, `^mount moved: /tmp → /scratch \(explain/hostchange_test.go:\d+\)$`, rs[0].Why)
}
