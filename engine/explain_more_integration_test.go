package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// moreParams are the inputs of moreGraph that the cases change.
type moreParams struct {
	workdir, user, include string
	owner                  int
	mid                    bool // the middle step is there
	inserted               bool // a step before the middle one
}

// moreGraph copies a host directory, then runs two or three steps on it.
func moreGraph(t *testing.T, p moreParams, src, nonce string) *sdk.Container {
	c := ltContainer(t).
		WithDirectory("/src", sdk.Host(src), copyOpts(p)...).
		WithWorkdir(p.workdir).
		WithUser(p.user).
		WithExec([]string{"/bin/lt", "echo", "first", nonce})
	if p.inserted {
		c = c.WithExec([]string{"/bin/lt", "echo", "inserted", nonce})
	}
	if p.mid {
		c = c.WithExec([]string{"/bin/lt", "echo", "middle", nonce})
	}
	return c.WithExec([]string{"/bin/lt", "echo", "last", nonce})
}

func copyOpts(p moreParams) []sdk.CopyOption {
	opts := []sdk.CopyOption{sdk.Owner(p.owner, p.owner)}
	if p.include != "" {
		opts = append(opts, sdk.Include(p.include))
	}
	return opts
}

// TestExplainedMissesBeyondTheList: changes the issue did not list — a
// step's workdir and user, a copy's owner and include patterns, a step
// removed or inserted in the middle, and host changes of a directory, a mode, a link
// and a name — each explained with the right first cause, on exactly the
// steps BuildKit re-ran. (A directory's mode alone re-runs nothing on
// BuildKit v0.34.2; lading counts it as a change, so it never skips on
// one: checked offline in internal/explain.)
func TestExplainedMissesBeyondTheList(t *testing.T) {
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("explain-more"))
	src := t.TempDir()
	nonce := uniqueTag(t) // in a file too: no copy of an earlier run is cached
	write := func(name, content string, mode os.FileMode) {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(content), mode))
	}
	reset := func() {
		require.NoError(t, os.RemoveAll(src))
		require.NoError(t, os.MkdirAll(filepath.Join(src, "lib"), 0o755))
		write("a.txt", "a "+nonce, 0o644)
		write("lib/b.txt", "b", 0o644)
		require.NoError(t, os.Chmod(filepath.Join(src, "a.txt"), 0o644))
		require.NoError(t, os.Chmod(filepath.Join(src, "lib"), 0o755))
		require.NoError(t, os.Symlink("a.txt", filepath.Join(src, "link")))
	}
	reset()
	base := moreParams{workdir: "/w1", user: "0", mid: true}
	const (
		cp    = "copy / /src"
		first = "exec /bin/lt echo first"
		mid   = "exec /bin/lt echo middle"
		ins   = "exec /bin/lt echo inserted"
		last  = "exec /bin/lt echo last"
	)
	_, err := eng.Build(t.Context(), moreGraph(t, base, src, nonce))
	require.NoError(t, err)

	parent := func(name string) string { return "its parent step " + name }
	hostChanged := func(what string) map[string]string {
		return map[string]string{cp: "1 file of host " + src + " changed: " + what, first: parent(cp), mid: parent(first), last: parent(mid)}
	}
	cases := []struct {
		name   string
		change func(p *moreParams)
		files  func()
		why    map[string]string
	}{
		{"workdir", func(p *moreParams) { p.workdir = "/w2" }, nil, map[string]string{
			first: `workdir changed: "/w1" → "/w2"`, mid: `workdir changed: "/w1" → "/w2"`, last: `workdir changed: "/w1" → "/w2"`}},
		{"user", func(p *moreParams) { p.user = "1000" }, nil, map[string]string{
			first: `user changed: "0" → "1000"`, mid: `user changed: "0" → "1000"`, last: `user changed: "0" → "1000"`}},
		{"copy owner", func(p *moreParams) { p.owner = 1000 }, nil, map[string]string{
			cp: `option owner changed: "0:0" → "1000:1000"`, first: parent(cp), mid: parent(first), last: parent(mid)}},
		{"copy include patterns", func(p *moreParams) { p.include = "*.txt" }, nil, map[string]string{
			cp: `option include changed: "" → "*.txt"`, first: parent(cp), mid: parent(first), last: parent(mid)}},
		{"a step removed in the middle", func(p *moreParams) { p.mid = false }, nil, map[string]string{
			last: "it now reads " + first + " " + nonce + " at "}},
		{"a step inserted in the middle", func(p *moreParams) { p.inserted = true }, nil, map[string]string{
			ins: "a new step: the last build had no exec step at this line", mid: parent(ins), last: parent(mid)}},
		{"a new empty directory", nil, func() {
			require.NoError(t, os.Mkdir(filepath.Join(src, "empty"), 0o755))
		}, hostChanged("empty/ (added)")},
		{"a file's mode only", nil, func() {
			require.NoError(t, os.Chmod(filepath.Join(src, "a.txt"), 0o755))
		}, hostChanged("a.txt (mode -rw-r--r-- → -rwxr-xr-x)")},
		{"a symlink's target", nil, func() {
			require.NoError(t, os.Remove(filepath.Join(src, "link")))
			require.NoError(t, os.Symlink("lib", filepath.Join(src, "link")))
		}, hostChanged("link")},
		{"a renamed file", nil, func() {
			require.NoError(t, os.Rename(filepath.Join(src, "lib/b.txt"), filepath.Join(src, "lib/c.txt")))
		}, map[string]string{cp: "2 files of host " + src + " changed: lib/b.txt (removed), lib/c.txt (added)", first: parent(cp), mid: parent(first), last: parent(mid)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reset()
			res, err := eng.Build(t.Context(), moreGraph(t, base, src, nonce))
			require.NoError(t, err)
			require.Zero(t, res.Summary.Ran, "the baseline must be cached:\n%s", res.Summary)
			p := base
			if tc.change != nil {
				tc.change(&p)
			}
			if tc.files != nil {
				tc.files()
			}
			res, err = eng.Build(t.Context(), moreGraph(t, p, src, nonce))
			require.NoError(t, err)
			t.Logf("%s", res.Summary)
			var ran, want []string
			for _, s := range res.Summary.Steps {
				if s.Op == "from" || s.Op == "host" || strings.HasPrefix(s.Name, "copy / /bin") {
					continue
				}
				step := stepLabel(s.Name, cp, first, mid, ins, last)
				if s.Cached {
					assert.Empty(t, s.Why, "a cached step has no explanation: %s", s.Name)
					continue
				}
				ran = append(ran, step)
				if assert.Contains(t, tc.why, step, "step %s ran, BuildKit says", s.Name) {
					assert.True(t, strings.HasPrefix(s.Why, tc.why[step]), "step %s: why = %q, want it to start with %q", step, s.Why, tc.why[step])
					assert.Contains(t, s.Why, "("+s.Location+")", "the explanation names the step's Go line")
				}
			}
			for step := range tc.why {
				if step != mid || p.mid {
					want = append(want, step)
				}
			}
			slices.Sort(ran)
			slices.Sort(want)
			assert.Equal(t, want, ran, "the steps BuildKit re-ran")
		})
	}
}
