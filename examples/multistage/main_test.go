package main

import (
	"bytes"
	"flag"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
)

// The build target is the default and runs on its own: the image's graph
// holds the test step, so a dependency on the test target would solve the
// same steps twice.
func TestBuildTargetIsTheDefaultAndStandsAlone(t *testing.T) {
	t.Parallel()
	p := newPipeline()
	var out bytes.Buffer
	p.Output(&out)
	require.ErrorIs(t, p.Run(t.Context(), []string{"-h"}), flag.ErrHelp)
	var build string
	for line := range strings.SplitSeq(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "build" {
			build = line
		}
	}
	require.NotEmpty(t, build, "no build target in the usage:\n%s", out.String())
	assert.Contains(t, build, "[default]")
	assert.NotContains(t, build, "(after", "the build target must not wait for another target")
}

// TestBuildTargetSolvesOnce runs the program's default target on the real
// engine and counts how often the test step is solved: once, in the same
// solve as the image.
func TestBuildTargetSolvesOnce(t *testing.T) {
	env := testenv.Require(t)
	var (
		mu    sync.Mutex
		tests int
	)
	p := newPipeline()
	var out bytes.Buffer
	p.Output(&out)
	p.EngineOptions(engine.WithAddress(env.BuildkitHost), engine.Silent(), engine.WithProgress(engine.ProgressQuiet),
		engine.WithEvents(func(e engine.Event) {
			if (e.Kind == engine.StepCached || e.Kind == engine.StepDone) && strings.HasPrefix(e.Name, "exec go test") {
				mu.Lock()
				tests++
				mu.Unlock()
			}
		}))
	require.NoError(t, p.Run(t.Context(), []string{"-src", copyDir(t, "app")}), "%s", out.String())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, tests, "the test step must be solved once by the build target\n%s", out.String())
	assert.NotContains(t, out.String(), "test ", "only the build target runs:\n%s", out.String())
}

// The example's images pass lint, offline: go run ./examples/multistage lint.
func TestImagesPassLint(t *testing.T) {
	t.Parallel()
	p := newPipeline()
	var out bytes.Buffer
	p.Output(&out)
	require.NoError(t, p.Run(t.Context(), []string{"lint"}), "%s", out.String())
	assert.Contains(t, out.String(), "hello:", "the lint target lints the hello image:\n%s", out.String())
}
