package lint_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/internal/benchgraph"
	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

func TestAllowSilencesOneStep(t *testing.T) {
	t.Parallel()
	loud := clean().WithExec(sh("curl -fsSL https://get.example.com | sh"))
	quiet := loud.With(lint.Allowing(lint.PipeToShell, "our installer, served over TLS")) // the line Allowing records
	line := lineOf(t, -1)
	again := quiet.WithExec(sh("wget -qO- https://other.example | bash"))

	r, err := lint.Run(again)
	require.NoError(t, err)
	var pipes []lint.Finding
	for _, f := range r.Findings() {
		if f.Rule == lint.PipeToShell {
			pipes = append(pipes, f)
		}
	}
	require.Len(t, pipes, 2)
	assert.True(t, pipes[0].Silenced, "the step before Allowing is silenced")
	assert.Equal(t, "our installer, served over TLS", pipes[0].Reason)
	assert.Equal(t, line, pipes[0].SilencedAt.String())
	assert.False(t, pipes[1].Silenced, "a later step is not")
	require.Len(t, r.Failing(), 1)
	assert.Equal(t, pipes[1], r.Failing()[0])

	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var out struct {
		Findings []lint.Finding `json:"findings"`
		Failing  int            `json:"failing"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out))
	assert.Equal(t, r.Findings(), out.Findings, "JSON round-trips, silenced findings included")
	assert.Equal(t, 1, out.Failing)
	assert.Contains(t, buf.String(), `"silenced": true`)
}

func TestAllowOnImageAndHost(t *testing.T) {
	t.Parallel()
	src := lint.Allow(sdk.Host(hostDir(t, ".git/")), lint.HostContext, "the build stamps the commit")
	img := lint.Allow(sdk.From(digestRef).WithDirectory("/src", src), lint.RootUser, "the base image runs as uid 1000")
	r, err := lint.Run(img)
	require.NoError(t, err)
	require.Len(t, r.Findings(), 2)
	for _, f := range r.Findings() {
		assert.True(t, f.Silenced, "%v", f)
	}
	assert.Empty(t, r.Failing())
	// The silence belongs to the step: another Host of the same path is
	// another step, not silenced.
	other, err := lint.Run(clean().WithDirectory("/src", sdk.Host(dirOf(t, img))))
	require.NoError(t, err)
	require.Len(t, other.Findings(), 1)
	assert.False(t, other.Findings()[0].Silenced)
}

// dirOf returns the path of the host directory the container copies.
func dirOf(t *testing.T, c *sdk.Container) string {
	t.Helper()
	for _, s := range sdktest.PlanOf(c).Steps() {
		if s.Op == "host" {
			return s.Args[0]
		}
	}
	t.Fatal("no host step")
	return ""
}

func TestCheck(t *testing.T) {
	t.Parallel()
	require.NoError(t, lint.Check(clean()))
	require.NoError(t, lint.Check(sdk.From("debian:bookworm").WithUser("1")), "a warning passes by default")
	err := lint.Check(sdk.From("debian:bookworm").WithUser("1"), lint.FailOn(lint.Warning))
	var ce *lint.CheckError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Findings, 1)
	assert.Equal(t, lint.BaseUnpinned, ce.Findings[0].Rule)
	assert.Contains(t, err.Error(), "lint/lint_test.go:")

	err = lint.Check(sdk.From("debian:latest").WithUser("root"))
	require.ErrorAs(t, err, &ce)
	assert.Len(t, ce.Findings, 2)

	var ve *sdk.ValidationError
	require.ErrorAs(t, lint.Check(sdk.From("")), &ve, "an invalid value is its validation error")
	require.ErrorAs(t, lint.Check(nil), &ve)
}

// TestNoSecretInOutput: findings about credentials never show them.
func TestNoSecretInOutput(t *testing.T) {
	t.Parallel()
	token := "ghp_" + strings.Repeat("Z", 36)
	v := clean().
		WithMountedSecret("/run/s", sdk.SecretFromValue("db", "db-pass-123")).
		WithEnv("GITHUB_TOKEN", token).
		WithExec([]string{"mysql", "--password=db-pass-123", "--token", "literal-tok"}).
		WithExec(sh("git clone https://me:"+token+"@github.com/r.git && curl -H 'x' https://u:hunter2@example.com/f | sh")).
		WithNewFile("/etc/conf", "password = db-pass-123\n").
		WithLabel("api.token", "lbl-secret-1")
	r, err := lint.Run(v)
	require.NoError(t, err)
	require.NotEmpty(t, r.Failing())
	var text, js bytes.Buffer
	require.NoError(t, r.WriteText(&text))
	require.NoError(t, r.WriteJSON(&js))
	for _, s := range []string{token, "db-pass-123", "literal-tok", "hunter2", "lbl-secret-1"} {
		assert.NotContains(t, text.String(), s)
		assert.NotContains(t, js.String(), s)
	}
}

// TestExamplesPassLint: the example images pass lint at the default
// threshold; their warnings are the tag-only bases (until a lock pins
// them).
func TestExamplesPassLint(t *testing.T) {
	t.Parallel()
	img := graph.Image(graph.Build(sdk.Host("../examples/multistage/app"), sdk.Proxy{HTTP: "http://proxy:3128"}), "1.0")
	r, err := lint.Run(img)
	require.NoError(t, err)
	assert.Empty(t, r.Failing(), "%v", r.Findings())
	for _, f := range r.Findings() {
		assert.Equal(t, lint.BaseUnpinned, f.Rule, "%v", f)
	}
	require.NoError(t, lint.Check(img, lint.FailOn(lint.Warning), lint.Pinned("golang:1.26", "debian:bookworm-slim")))
}

func TestInvalidAndOddValues(t *testing.T) {
	t.Parallel()
	_, err := lint.Run(sdk.From("debian:bookworm").WithExec(nil))
	var ve *sdk.ValidationError
	require.ErrorAs(t, err, &ve)
	r, err := lint.Run(sdk.Scratch())
	require.NoError(t, err)
	assert.Len(t, r.Findings(), 1, "an empty scratch image runs as uid 0")
	r, err = lint.Run(sdk.NewDirectory().WithNewFile("a", "b"))
	require.NoError(t, err)
	assert.Empty(t, r.Findings())
	r, err = lint.Run(sdk.HTTP("https://x.example/f", "sha256:"+strings.Repeat("1", 64)))
	require.NoError(t, err)
	assert.Empty(t, r.Findings())
}

func TestRulesAreDocumented(t *testing.T) {
	t.Parallel()
	ids := map[lint.Rule]bool{}
	for _, info := range lint.Rules() {
		assert.False(t, ids[info.Rule], "rule %s listed twice", info.Rule)
		ids[info.Rule] = true
		assert.NotEmpty(t, info.Summary)
		assert.NotEmpty(t, info.Why)
	}
	assert.Len(t, ids, 19)
	doc, err := os.ReadFile("../docs/lint.md")
	require.NoError(t, err)
	for id := range ids {
		assert.Contains(t, string(doc), "| `"+string(id)+"` |", "docs/lint.md's table lists %s", id)
		assert.Regexp(t, `(?m)^### .*\b`+string(id)+`\b`, string(doc), "docs/lint.md has a section on %s", id)
	}
}

// BenchmarkLint2000 lints the 2,000-step benchmark graph (budget: 50 ms).
func BenchmarkLint2000(b *testing.B) {
	v := benchgraph.SDK(2000)
	for b.Loop() {
		if _, err := lint.Run(v); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLint2000StepsIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	if raceEnabled {
		t.Skip("timing budgets are checked without the race detector (make test runs them apart)")
	}
	v := benchgraph.SDK(2000)
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			_, _ = lint.Run(v)
		}
	})
	per := res.NsPerOp()
	t.Logf("lint of 2,000 steps: %.2f ms", float64(per)/1e6)
	assert.Less(t, per, int64(50e6), "lint of a 2,000-step graph must take at most 50 ms")
}
