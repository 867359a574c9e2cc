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

// TestEndToEnd builds the example on the real engine, runs the service in
// a step on top of its image and requests a page, then checks that an
// unchanged rebuild is fully cached and that a one-line source change
// re-runs only the steps downstream of it.
func TestEndToEnd(t *testing.T) {
	env := testenv.Require(t)
	eng, err := engine.Connect(t.Context(), engine.WithAddress(env.BuildkitHost), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
	require.NoError(t, err)
	defer eng.Close()

	src := copyDir(t, "app")
	image := func() *sdk.Container { return graph.Image(graph.Build(sdk.Host(src), sdk.Proxy{}), "e2e") }

	body, err := eng.Stdout(t.Context(), graph.Smoke(image()))
	require.NoError(t, err)
	assert.Equal(t, "hello, smoke\n", body)

	res, err := eng.Build(t.Context(), image())
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Ran, "an unchanged rebuild must be fully cached:\n%s", res.Summary)
	assert.GreaterOrEqual(t, res.Summary.Cached, 6, "%s", res.Summary)

	main := filepath.Join(src, "main.go")
	code, err := os.ReadFile(main)
	require.NoError(t, err)
	// The nonce keeps the change new to the engine's cache on every run.
	changed := strings.Replace(string(code), `"hello, %s\n"`, `"hello there, %s\n" /* `+strconv.FormatInt(time.Now().UnixNano(), 10)+` */`, 1)
	require.NotEqual(t, string(code), changed)
	require.NoError(t, os.WriteFile(main, []byte(changed), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "main_test.go"), []byte(strings.ReplaceAll(mustRead(t, filepath.Join(src, "main_test.go")), "hello, ", "hello there, ")), 0o644))

	res, err = eng.Build(t.Context(), image())
	require.NoError(t, err)
	state := map[string]bool{}
	for _, s := range res.Summary.Steps {
		state[s.Name] = s.Cached
	}
	t.Logf("after a one-line change:\n%s", res.Summary)
	assert.True(t, cachedStep(t, state, "exec go mod download"), "the module download must not repeat")
	assert.False(t, cachedStep(t, state, "exec go test"), "tests must re-run")
	assert.False(t, cachedStep(t, state, "exec go build"), "the binary must be rebuilt")

	body, err = eng.Stdout(t.Context(), graph.Smoke(image()))
	require.NoError(t, err)
	assert.Equal(t, "hello there, smoke\n", body)
}

func cachedStep(t *testing.T, state map[string]bool, prefix string) bool {
	t.Helper()
	for name, cached := range state {
		if strings.HasPrefix(name, prefix) {
			return cached
		}
	}
	t.Fatalf("no step named %q in the build summary", prefix)
	return false
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(dt)
}

// copyDir copies the example's sources to a temporary directory the test
// can change.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(dir)))
	return dst
}
