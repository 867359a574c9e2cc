package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// TestExplainedMisses changes the example one way at a time and checks
// each explanation against what BuildKit re-ran: every step that ran has
// the right first cause, the steps that must run did, and every other
// step came from the cache.
func TestExplainedMisses(t *testing.T) {
	env := testenv.Require(t)
	eng, err := engine.Connect(t.Context(), engine.WithAddress(env.BuildkitHost), engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet), engine.WithRecords(t.TempDir()), engine.WithProgramName("multistage-explain"))
	require.NoError(t, err)
	defer eng.Close()

	src := copyDir(t, "app")
	require.NoError(t, os.WriteFile(filepath.Join(src, ".dockerignore"), []byte("NOTES.md\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "NOTES.md"), []byte("notes\n"), 0o644))
	nonce := func() string { return strconv.FormatInt(time.Now().UnixNano(), 10) }
	appendTo := func(name, text string) {
		f, err := os.OpenFile(filepath.Join(src, name), os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString(text)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	image := func(version string, proxy sdk.Proxy) *sdk.Container {
		return graph.Image(graph.Build(sdk.Host(src), proxy), version)
	}
	// Make the baseline new to the engine's cache.
	appendTo("main.go", "\n// "+nonce()+"\n")

	const (
		gomod    = "copy /go.mod /src/go.mod"
		download = "exec go mod download"
		copySrc  = "copy / /src"
		test     = "exec go test"
		build    = "exec go build"
		binary   = "copy /out/hello"
	)
	res, err := eng.Build(t.Context(), image("1.0", sdk.Proxy{}))
	require.NoError(t, err)
	assert.Contains(t, findStep(t, res.Summary, test).Why, "no earlier build", "%s", res.Summary)

	cases := []struct {
		name   string
		change func()
		image  func() *sdk.Container
		// must lists the steps that must run, with the start of their
		// explanation; may the steps that may (the image's copy of the
		// binary runs only when the binary's bytes changed).
		must, may map[string]string
	}{
		{"one source file", func() { appendTo("main.go", "// "+nonce()+"\n") }, func() *sdk.Container { return image("1.0", sdk.Proxy{}) },
			map[string]string{copySrc: "1 file of host " + src + " changed: main.go", test: "its parent step copy / /src at ",
				build: "its parent step exec go test ./... at "},
			map[string]string{binary: "its parent step exec go build "}},
		{"go.mod, upstream of the download", func() { appendTo("go.mod", "// "+nonce()+"\n") }, func() *sdk.Container { return image("1.0", sdk.Proxy{}) },
			map[string]string{gomod: "1 file of host " + src + " changed: go.mod", download: "its parent step copy /go.mod /src/go.mod at ",
				copySrc: "its parent step exec go mod download at ", test: "its parent step copy / /src at ", build: "its parent step exec go test ./... at "},
			map[string]string{binary: "its parent step exec go build "}},
		{"a .dockerignored file", func() { appendTo("NOTES.md", nonce()) }, func() *sdk.Container { return image("1.0", sdk.Proxy{}) }, nil, nil},
		{"the image's version label", func() {}, func() *sdk.Container { return image("2.0", sdk.Proxy{}) }, nil, nil},
		{"a proxy", func() {}, func() *sdk.Container { return image("1.0", sdk.Proxy{HTTP: "http://proxy.invalid:3128"}) }, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := eng.Build(t.Context(), image("1.0", sdk.Proxy{}))
			require.NoError(t, err)
			require.Zero(t, res.Summary.Ran, "the baseline must be cached:\n%s", res.Summary)
			tc.change()
			res, err = eng.Build(t.Context(), tc.image())
			require.NoError(t, err)
			t.Logf("%s", res.Summary)
			ran := map[string]bool{}
			for _, s := range res.Summary.Steps {
				if s.Op == "from" || s.Op == "host" {
					continue
				}
				label := labelOf(s.Name, gomod, download, copySrc, test, build, binary)
				if s.Cached {
					assert.Empty(t, s.Why, "%s came from the cache", s.Name)
					continue
				}
				ran[label] = true
				want, ok := tc.must[label]
				if !ok {
					want, ok = tc.may[label]
				}
				if assert.True(t, ok, "%s ran, and must not have", s.Name) {
					assert.True(t, strings.HasPrefix(s.Why, want), "%s: why = %q, want %q…", label, s.Why, want)
					assert.True(t, strings.HasSuffix(s.Why, "("+s.Location+")"), "names its Go line: %q", s.Why)
				}
			}
			for label := range tc.must {
				assert.True(t, ran[label], "%s must have run", label)
			}
		})
	}
}

func labelOf(name string, labels ...string) string {
	for _, l := range labels {
		if strings.HasPrefix(name, l) {
			return l
		}
	}
	return name
}

// findStep is the summary's step whose name starts with prefix.
func findStep(t *testing.T, s engine.Summary, prefix string) engine.StepSummary {
	t.Helper()
	for _, st := range s.Steps {
		if strings.HasPrefix(st.Name, prefix) {
			return st
		}
	}
	t.Fatalf("no step %q in:\n%s", prefix, s)
	return engine.StepSummary{}
}
