package engine

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

func TestExecExitCode(t *testing.T) {
	e, _ := testEngine(t)
	lt := ltContainer(t)
	cases := []struct {
		name     string
		c        *sdk.Container
		code     int
		stderr   string
		rejected bool
	}{
		{"zero", lt.WithExec([]string{"/bin/lt", "exit", "0", "fine"}), 0, "fine\n", false},
		{"accepted non-zero", lt.WithExec([]string{"/bin/lt", "exit", "3", "three"}, sdk.ExitCodes(0, 3)), 3, "three\n", false},
		{"accepted zero among others", lt.WithExec([]string{"/bin/lt", "exit", "0", "zero"}, sdk.ExitCodes(0, 3)), 0, "zero\n", false},
		{"not accepted", lt.WithExec([]string{"/bin/lt", "exit", "4", "four"}, sdk.ExitCodes(0, 3)), 4, "", true},
		{"zero not accepted", lt.WithExec([]string{"/bin/lt", "exit", "0", "zero"}, sdk.ExitCodes(1)), 0, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for run := range 2 { // the second time, the step is cached
				res, err := e.Exec(t.Context(), tc.c)
				if tc.rejected {
					var xe *ExecError
					require.ErrorAs(t, err, &xe, "run %d", run)
					assert.Equal(t, tc.code, xe.ExitCode)
					assert.Contains(t, xe.Location, "exec_result_integration_test.go:")
					continue
				}
				require.NoError(t, err, "run %d", run)
				assert.Equal(t, tc.code, res.ExitCode)
				assert.Equal(t, tc.stderr, res.Stderr)
				assert.Empty(t, res.Stdout)
			}
		})
	}
}

// TestOutputOfAnyStep reads a stage in the middle of a graph: only its own
// steps are built, none after it, and the value built from it is untouched.
func TestOutputOfAnyStep(t *testing.T) {
	var mu sync.Mutex
	var ran []string
	e, _ := testEngine(t, WithEvents(func(ev Event) {
		if ev.Kind == StepDone {
			mu.Lock()
			ran = append(ran, ev.Name)
			mu.Unlock()
		}
	}))
	marker := strconv.FormatInt(time.Now().UnixNano(), 10)
	lt := ltContainer(t)
	test := lt.WithExec([]string{"/bin/lt", "echo", "test", marker})
	app := test.WithNewFile("/after-"+marker, "x").WithExec([]string{"/bin/lt", "echo", "package", marker})
	_, err := e.Build(t.Context(), app)
	require.NoError(t, err)

	// The parent of the built value, read after the build.
	mu.Lock()
	ran = nil
	mu.Unlock()
	res, err := e.Exec(t.Context(), test)
	require.NoError(t, err)
	assert.Equal(t, "test "+marker+"\n", res.Stdout)
	mu.Lock()
	for _, name := range ran {
		assert.NotContains(t, name, "after-", "a step after the one read ran")
		assert.NotContains(t, name, "package", "a step after the one read ran")
	}
	mu.Unlock()

	// A step followed by a file step: reading it does not build that one.
	mid := lt.WithExec([]string{"/bin/lt", "echo", "mid", marker})
	out, err := e.Stdout(t.Context(), mid.WithNewFile("/later-"+marker, "y"))
	require.NoError(t, err)
	assert.Equal(t, "mid "+marker+"\n", out)
	mu.Lock()
	defer mu.Unlock()
	for _, name := range ran {
		assert.NotContains(t, name, "later-", "the file step after the exec ran")
	}
}
