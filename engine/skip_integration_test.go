package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
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

// TestSkipOnlyWhatCanBeSkipped: outputs on this machine, a captured step
// output and several platforms never skip; the reason is printed.
func TestSkipOnlyWhatCanBeSkipped(t *testing.T) {
	var progress lockedBuffer
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-kinds"), WithSkipUnchanged())
	v := sdk.Scratch().WithNewFile("/a", uniqueTag(t))
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		e    *Engine
		out  []Output
		want string
	}{
		{"a local directory", eng, []Output{LocalPath(filepath.Join(dir, "out"))}, "it writes files on this machine"},
		{"a tarball", eng, []Output{OCITarball(filepath.Join(dir, "x.tar"))}, "it writes files on this machine"},
		{"several platforms", eng.With(WithPlatforms("linux/amd64", "linux/arm64")), nil, "a build for several platforms is never skipped"},
	} {
		_, err := tc.e.Build(t.Context(), v, tc.out...)
		require.NoError(t, err, tc.name)
		assert.Contains(t, skipReason(t, tc.e, v, tc.out...), tc.want, tc.name)
		res, err := tc.e.With(WithProgress(ProgressPlain), WithProgressOutput(&progress)).Build(t.Context(), v, tc.out...)
		require.NoError(t, err, tc.name)
		assert.Empty(t, res.Summary.Skipped, tc.name)
		assert.Contains(t, progress.String(), "not skipped: "+tc.want, tc.name)
	}
	x := ltContainer(t).WithExec([]string{"/bin/lt", "echo", "hi"})
	r := &run{e: eng, req: request{compile: compileValue(x, true), rerunFinal: true, value: x}}
	require.NoError(t, r.plan(t.Context()))
	ex, err := r.newExplainer(t.Context())
	require.NoError(t, err)
	why, ok := r.skippable(t.Context(), ex)
	assert.False(t, ok)
	assert.Equal(t, "a step's output is read, so it must run", why)
}

// lockedBuffer is a bytes.Buffer safe for the progress display's writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// skipReason is what the skip check says for v now, without building.
func skipReason(t *testing.T, e *Engine, v sdk.Value, outputs ...Output) string {
	t.Helper()
	r := &run{e: e, req: request{compile: compileValue(v, false), outputs: outputs, value: v}}
	require.NoError(t, r.plan(t.Context()))
	ex, err := r.newExplainer(t.Context())
	require.NoError(t, err)
	why, _ := r.skippable(t.Context(), ex)
	return why
}

// TestSkipSeesTheImageConfig: what the image carries besides its steps —
// a label, an entrypoint, env set after the last step, the epoch — is part
// of the result, so changing it never skips.
func TestSkipSeesTheImageConfig(t *testing.T) {
	plain, env := testEngine(t)
	repo := env.Registry + "/lading-test/skip-config"
	tag := uniqueTag(t)
	dgst, err := plain.Publish(t.Context(), sdk.Scratch().WithNewFile("/base.txt", tag), repo+":"+tag)
	require.NoError(t, err)
	base := sdk.From(repo+"@"+dgst).WithNewFile("/app", "app")
	out := Registry(repo + ":config-" + tag)
	epoch := time.Unix(1700000000, 0)
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-config"), WithSkipUnchanged(), WithSourceDateEpoch(epoch))

	first, err := eng.Build(t.Context(), base.WithLabel("v", "1"), out)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		eng  *Engine
		v    sdk.Value
	}{
		{"a label", eng, base.WithLabel("v", "2")},
		{"an entrypoint", eng, base.WithLabel("v", "2").WithEntrypoint("/app")},
		{"env after the last step", eng, base.WithLabel("v", "2").WithEntrypoint("/app").WithEnv("MODE", "x")},
		{"the epoch", eng.With(WithSourceDateEpoch(epoch.Add(time.Hour))), base.WithLabel("v", "2").WithEntrypoint("/app").WithEnv("MODE", "x")},
	} {
		assert.Contains(t, skipReason(t, tc.eng, tc.v, out), "the image config, the epoch or the export settings changed", tc.name)
		res, err := tc.eng.Build(t.Context(), tc.v, out)
		require.NoError(t, err, tc.name)
		assert.Empty(t, res.Summary.Skipped, tc.name)
		assert.NotEqual(t, first.Digest, res.Digest, "%s: a new image", tc.name)
		first = res
	}
}
