package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// explainParams are the inputs of explainGraph that the cases change.
type explainParams struct {
	base, mode, upstream, arg, cache, secret string
}

// explainGraph is a graph of four steps on a base image: an upstream exec,
// an exec with a cache volume, a copy of a host directory and an exec
// reading a secret. nonce keeps the first build new to the engine.
func explainGraph(p explainParams, src, nonce string) *sdk.Container {
	return sdk.From(p.base).
		WithEnv("MODE", p.mode).
		WithExec([]string{"sh", "-c", "echo upstream " + p.upstream + " " + nonce}).
		WithMountedCache("/cache", sdk.CacheVolume(p.cache)).
		WithExec([]string{"sh", "-c", "echo cached >/cache/x"}).
		WithDirectory("/src", sdk.Host(src)).
		WithMountedSecret("/run/secrets/tok", sdk.SecretFromValue("tok", p.secret)).
		WithExec([]string{"sh", "-c", "cat /src/a.txt >/dev/null; test -s /run/secrets/tok; echo " + p.arg})
}

// TestExplainedMisses applies one change at a time to explainGraph and
// checks, against what BuildKit actually re-ran, that exactly the steps
// that ran carry an explanation, and that each names the right first
// cause.
func TestExplainedMisses(t *testing.T) {
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("explain-test"))
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "ignored.txt"), []byte("i"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, ".dockerignore"), []byte("ignored.txt\n"), 0o644))
	nonce := uniqueTag(t)
	base := explainParams{base: "debian:bookworm-slim", mode: "one", upstream: "u1", arg: "a1", cache: "explain-" + nonce, secret: "sentinel-secret-one"}

	const (
		upstream = "exec sh -c \"echo upstream"
		cached   = "exec sh -c \"echo cached"
		copySrc  = "copy / /src"
		last     = "exec sh -c \"cat /src/a.txt"
	)
	first, err := eng.Build(t.Context(), explainGraph(base, src, nonce))
	require.NoError(t, err)
	assert.Contains(t, findStep(t, first.Summary, upstream).Why, "no earlier build")

	cases := []struct {
		name   string
		change func(p *explainParams)
		files  func(t *testing.T)
		// why maps each step expected to run to the start of its
		// explanation; every other step must come from the cache.
		why map[string]string
	}{
		{"env value", func(p *explainParams) { p.mode = "two" }, nil, map[string]string{
			upstream: `env MODE changed: "one" → "two"`, cached: `env MODE changed: "one" → "two"`,
			copySrc: "its parent step exec sh -c \"echo cached >/cache/x\" at ", last: `env MODE changed: "one" → "two"`}},
		{"argument", func(p *explainParams) { p.arg = "a2" }, nil, map[string]string{
			last: `arguments changed: "sh -c \"cat /src/a.txt`}},
		{"upstream step", func(p *explainParams) { p.upstream = "u2" }, nil, map[string]string{
			upstream: `arguments changed: "sh -c \"echo upstream u1`, cached: "its parent step exec sh -c \"echo upstream",
			copySrc: "its parent step exec sh -c \"echo cached >/cache/x\" at ", last: "its parent step copy / /src"}},
		{"one source file", nil, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("a changed"), 0o644))
		}, map[string]string{copySrc: "1 file of host " + src + " changed: a.txt", last: "its parent step copy / /src"}},
		{"dockerignored file", nil, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(src, "ignored.txt"), []byte("ignored, changed"), 0o644))
		}, map[string]string{}},
		{"secret value", func(p *explainParams) { p.secret = "sentinel-secret-two" }, nil, map[string]string{}},
		// BuildKit leaves cache volume ids out of cache keys.
		{"cache volume id", func(p *explainParams) { p.cache += "-2" }, nil, map[string]string{}},
		{"base image tag", func(p *explainParams) { p.base = "debian:bookworm" }, nil, map[string]string{
			upstream: `base image changed: "debian:bookworm-slim" → "debian:bookworm"`,
			cached:   `base image changed:`, copySrc: "its parent step exec sh -c \"echo cached >/cache/x\" at ", last: "base image changed:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The baseline again: cached, and the record to compare with.
			res, err := eng.Build(t.Context(), explainGraph(base, src, nonce))
			require.NoError(t, err)
			require.Zero(t, res.Summary.Ran, "the baseline must be cached:\n%s", res.Summary)
			p := base
			if tc.change != nil {
				tc.change(&p)
			}
			if tc.files != nil {
				tc.files(t)
			}
			res, err = eng.Build(t.Context(), explainGraph(p, src, nonce))
			require.NoError(t, err)
			t.Logf("%s", res.Summary)
			var ran, want []string
			for _, s := range res.Summary.Steps {
				if s.Op == "from" || s.Op == "host" {
					assert.Empty(t, s.Why, "a source is not explained: %s", s.Name)
					continue
				}
				step := stepLabel(s.Name, upstream, cached, copySrc, last)
				if !s.Cached {
					ran = append(ran, step)
					if assert.Contains(t, tc.why, step, "step %s ran, BuildKit says", s.Name) {
						assert.True(t, strings.HasPrefix(s.Why, tc.why[step]), "step %s: why = %q, want it to start with %q", step, s.Why, tc.why[step])
						assert.Contains(t, s.Why, "("+s.Location+")", "the explanation names the step's Go line")
					}
				} else {
					assert.Empty(t, s.Why, "a cached step has no explanation: %s", s.Name)
				}
			}
			for step := range tc.why {
				want = append(want, step)
			}
			slices.Sort(ran)
			slices.Sort(want)
			assert.Equal(t, want, ran, "the steps BuildKit re-ran")
			// Back to the baseline's files for the next case.
			require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644))
		})
	}
}

// stepLabel is the one of labels that name starts with.
func stepLabel(name string, labels ...string) string {
	for _, l := range labels {
		if strings.HasPrefix(name, l) {
			return l
		}
	}
	return name
}

// TestExplainedBaseDigest moves a base image's tag to another image and
// checks that the steps on it are explained by the digest change, with
// the tag.
func TestExplainedBaseDigest(t *testing.T) {
	eng, env := testEngine(t, WithRecords(t.TempDir()), WithProgramName("explain-base-test"))
	ref := env.Registry + "/lading-test/explain-base:" + uniqueTag(t)
	push := func(content string) string {
		d, err := eng.Publish(t.Context(), sdk.Scratch().WithNewFile("/base.txt", content), ref)
		require.NoError(t, err)
		return d
	}
	graph := func() *sdk.Container {
		return sdk.From(ref).WithNewFile("/app.txt", "app").WithNewFile("/b.txt", "b")
	}
	old := push("one " + uniqueTag(t))
	_, err := eng.Build(t.Context(), graph())
	require.NoError(t, err)
	res, err := eng.Build(t.Context(), graph())
	require.NoError(t, err)
	require.Zero(t, res.Summary.Ran, "%s", res.Summary)

	now := push("two " + uniqueTag(t))
	res, err = eng.Build(t.Context(), graph())
	require.NoError(t, err)
	t.Logf("%s", res.Summary)
	newfile := findStep(t, res.Summary, "newfile /app.txt")
	require.False(t, newfile.Cached, "BuildKit re-runs a step on a moved base:\n%s", res.Summary)
	assert.Equal(t, "base image "+ref+" changed digest: "+old[:19]+" → "+now[:19]+" (from at "+findStep(t, res.Summary, "from ").Location+") ("+newfile.Location+")", newfile.Why)
	assert.Contains(t, findStep(t, res.Summary, "newfile /b.txt").Why, "its parent step newfile /app.txt at ")
}

// TestExplainBrokenRecord: a record that cannot be read is a warning and
// counts as none; the build succeeds. Explanations also reach the events.
func TestExplainBrokenRecord(t *testing.T) {
	records := t.TempDir()
	var mu sync.Mutex
	var whys []string
	eng, _ := testEngine(t, WithRecords(records), WithProgramName("broken-record"), WithEvents(func(e Event) {
		if e.Kind == StepDone && e.Why != "" {
			mu.Lock()
			whys = append(whys, e.Name+": "+e.Why)
			mu.Unlock()
		}
	}))
	v := func(arg string) *sdk.Container {
		return ltContainer(t).WithExec([]string{"/bin/lt", "echo", arg})
	}
	nonce := uniqueTag(t)
	_, err := eng.Build(t.Context(), v(nonce))
	require.NoError(t, err)
	res, err := eng.Build(t.Context(), v(nonce+"-2"))
	require.NoError(t, err)
	assert.Contains(t, findStep(t, res.Summary, "exec /bin/lt echo").Why, `arguments changed: "/bin/lt echo `+nonce+`" → "/bin/lt echo `+nonce+`-2"`)
	mu.Lock()
	assert.Contains(t, whys, findStep(t, res.Summary, "exec /bin/lt echo").Name+": "+findStep(t, res.Summary, "exec /bin/lt echo").Why, "the StepDone event carries the explanation")
	mu.Unlock()

	files, err := filepath.Glob(filepath.Join(records, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 2, "the two builds' records: their steps differ")
	for _, f := range files {
		require.NoError(t, os.WriteFile(f, []byte("{broken"), 0o600))
	}
	res, err = eng.Build(t.Context(), v(nonce+"-3"))
	require.NoError(t, err, "a broken record never fails a build")
	require.Len(t, res.Summary.Warnings, 1)
	assert.Contains(t, res.Summary.Warnings[0], "comparing with the last build: decoding a build record")
	assert.Equal(t, "no earlier build of this program and target to compare with", findStep(t, res.Summary, "exec /bin/lt echo").Why)
}

// TestRecordsHoldNoSecret: a secret's value that a step's arguments
// happen to contain is scrubbed from the record and from explanations,
// the last build's value included (a regression: the record kept it, and
// the next build, with another secret, showed it as the old value).
func TestRecordsHoldNoSecret(t *testing.T) {
	records := t.TempDir()
	eng, _ := testEngine(t, WithRecords(records), WithProgramName("secret-record"))
	nonce := uniqueTag(t)
	v := func(secret string) *sdk.Container {
		return ltContainer(t).
			WithSecretEnv("TOKEN", sdk.SecretFromValue("token", secret)).
			WithExec([]string{"/bin/lt", "echo", "token=" + secret, strings.Repeat("long ", 50) + secret})
	}
	first, second := "sentinel-one-"+nonce, "sentinel-two-"+nonce
	_, err := eng.Build(t.Context(), v(first))
	require.NoError(t, err)
	res, err := eng.Build(t.Context(), v(second))
	require.NoError(t, err)
	s := findStep(t, res.Summary, "exec /bin/lt echo")
	require.False(t, s.Cached)
	assert.NotEmpty(t, s.Why)
	for _, secret := range []string{first, second} {
		assert.NotContains(t, s.Why, secret)
		assert.NotContains(t, res.Summary.String(), secret)
	}
	files, err := filepath.Glob(filepath.Join(records, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 2, "both builds' records")
	for _, f := range files {
		dt, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(dt), first)
		assert.NotContains(t, string(dt), second)
		assert.NotContains(t, string(dt), nonce, "the long argument's hash is of the scrubbed value, its start scrubbed")
	}
}
