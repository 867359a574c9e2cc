package reliability

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// TestFailingStepIsShownClearly fails a step in the middle of a graph and
// reads the plain progress output the way a user reads a CI log: the
// failing step is named with its command and Go file:line, its last
// output lines and exit code are there, and the error returned is an
// *ExecError with the same facts (engine.TestExecError checks the fields
// on a scratch container; this adds the progress display and a step that
// is not the last one).
func TestFailingStepIsShownClearly(t *testing.T) {
	var progress bytes.Buffer
	e, _ := sharedEngine(t, engine.WithProgress(engine.ProgressPlain), engine.WithProgressOutput(&progress))
	run := token(t)
	_, _, line, _ := runtime.Caller(0)
	c := sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "echo preparing " + run}).
		WithExec([]string{"sh", "-c", "echo compiling " + run + "; echo 'main.go:3: undefined: x' >&2; exit 2"}). // line+3
		WithExec([]string{"echo", "never runs"})
	_, err := e.Build(t.Context(), c)
	require.Error(t, err)
	wantLoc := fmt.Sprintf("reliability/failure_test.go:%d", line+3)

	var xe *engine.ExecError
	require.ErrorAs(t, err, &xe, "got %T", err)
	assert.Equal(t, 2, xe.ExitCode)
	assert.Equal(t, []string{"sh", "-c", "echo compiling " + run + "; echo 'main.go:3: undefined: x' >&2; exit 2"}, xe.Args)
	assert.Equal(t, wantLoc, xe.Location)
	assert.Contains(t, xe.Output, "compiling "+run)
	assert.Contains(t, xe.Output, "main.go:3: undefined: x")
	msg := err.Error()
	assert.Contains(t, msg, wantLoc)
	assert.Contains(t, msg, "exited with code 2")
	assert.Contains(t, msg, "main.go:3: undefined: x")
	assert.NotContains(t, msg, "never runs")

	out := progress.String()
	t.Logf("progress output:\n%s", out)
	assert.Contains(t, out, "compiling "+run, "the step's output")
	assert.Contains(t, out, "main.go:3: undefined: x", "the step's stderr")
	assert.Contains(t, out, wantLoc, "the step's Go call site")
	var errLine string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "ERROR") {
			errLine = l
		}
	}
	assert.Contains(t, errLine, "echo compiling "+run, "a line marks the failure and names the command")
	assert.Contains(t, errLine, "exit code: 2")
	assert.Contains(t, out, "> exec sh -c \"echo compiling "+run, "the failure is repeated at the end with the step's last lines")
	assert.NotContains(t, out, "never runs")
}
