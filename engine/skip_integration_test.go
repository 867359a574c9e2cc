package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestSkipUnchanged builds a graph on a base pinned by digest with
// skipping on, then tries to fool the check: a touched file and a change
// to a .dockerignored file still skip; an edited file, a moved file, a
// changed env and a base named by tag build.
func TestSkipUnchanged(t *testing.T) {
	plain, env := testEngine(t)
	repo := env.Registry + "/lading-test/skip-base"
	tag := uniqueTag(t)
	dgst, err := plain.Publish(t.Context(), sdk.Scratch().WithNewFile("/base.txt", tag), repo+":"+tag)
	require.NoError(t, err)
	pinnedBase := repo + "@" + dgst

	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-test"), WithSkipUnchanged())
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("a.txt", "a")
	write("sub/b.txt", "b")
	write("ignored.txt", "i")
	write(".dockerignore", "ignored.txt\n")
	graph := func(base, mode string) *sdk.Container {
		return sdk.From(base).WithDirectory("/src", sdk.Host(dir)).WithNewFile("/mode", mode)
	}
	out := Registry(repo + ":skip-" + tag)

	first, err := eng.Build(t.Context(), graph(pinnedBase, "one"), out)
	require.NoError(t, err)
	require.Empty(t, first.Summary.Skipped, "nothing to compare with")
	require.NotEmpty(t, first.Digest)

	steps := []struct {
		name   string
		change func()
		base   string
		mode   string
		skip   bool
		why    string
	}{
		{"unchanged", func() {}, pinnedBase, "one", true, "unchanged since the build of"},
		{"touch without change", func() {
			now := time.Now()
			require.NoError(t, os.Chtimes(filepath.Join(dir, "a.txt"), now, now))
		}, pinnedBase, "one", true, "host files unchanged"},
		{"a .dockerignored file", func() { write("ignored.txt", "changed") }, pinnedBase, "one", true, "unchanged"},
		{"an edited file", func() { write("a.txt", "changed") }, pinnedBase, "one", false, "host files changed: 1 file of host " + dir + " changed: a.txt"},
		{"a moved file", func() {
			require.NoError(t, os.Rename(filepath.Join(dir, "sub/b.txt"), filepath.Join(dir, "sub/c.txt")))
		}, pinnedBase, "one", false, "sub/b.txt (removed)"},
		{"a changed value", func() {}, pinnedBase, "two", false, "the graph changed at step newfile /mode"},
		{"a tag", func() {}, repo + ":" + tag, "two", false, "the graph changed at step from " + repo + ":" + tag},
		{"a tag, again", func() {}, repo + ":" + tag, "two", false, "base image " + repo + ":" + tag + " is not pinned by digest"},
	}
	for _, s := range steps {
		s.change()
		if !s.skip {
			// Why it does not skip is printed on the progress output;
			// the same check, made before the build, gives it here.
			assert.Contains(t, skipReason(t, eng, graph(s.base, s.mode), out), s.why, s.name)
		}
		res, err := eng.Build(t.Context(), graph(s.base, s.mode), out)
		require.NoError(t, err, s.name)
		if s.skip {
			assert.Contains(t, res.Summary.Skipped, s.why, s.name)
			assert.Empty(t, res.Summary.Steps, "%s: a skipped build runs nothing", s.name)
			assert.Equal(t, first.Digest, res.Digest, "%s: the last build's digest", s.name)
			assert.Contains(t, res.Summary.String(), "unchanged, skipped", s.name)
		} else {
			assert.Empty(t, res.Summary.Skipped, s.name)
			assert.NotEmpty(t, res.Summary.Steps, "%s: the build ran", s.name)
		}
	}
}

// skipReason is what the skip check says for v now, without building.
func skipReason(t *testing.T, e *Engine, v sdk.Value, outputs ...Output) string {
	t.Helper()
	r := &run{e: e, req: request{compile: compileValue(v, false), outputs: outputs, value: v}}
	require.NoError(t, r.plan(t.Context()))
	ex, err := r.newExplainer(t.Context())
	require.NoError(t, err)
	why, _ := r.skippable(ex)
	return why
}
