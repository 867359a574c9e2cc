package engine

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// debugChildEnv makes TestDebugShellChild run: the program under test,
// started by the tests below with a terminal or without one.
const debugChildEnv = "LADING_TEST_DEBUG_CHILD"

// TestDebugShellChild is not a test of its own: it is the program the
// debug shell tests run, a build whose step fails with
// LADING_INTERACTIVE=1.
func TestDebugShellChild(t *testing.T) {
	mode := os.Getenv(debugChildEnv)
	if mode == "" {
		t.Skip("run by TestDebugShell")
	}
	progress := ProgressQuiet
	if mode != "tty" {
		progress = ProgressPlain
	}
	e, _ := testEngine(t, WithProgress(progress))
	if mode == "terminal" {
		c := sdk.From("debian:bookworm").WithNewFile("/srv/data/hello", "world").WithWorkdir("/srv/data").WithEnv("GREETING", "hi")
		err := e.Terminal(t.Context(), c)
		fmt.Printf("\r\nTERMINAL-RETURNED: %v\r\n", err)
		return
	}
	if mode == "scratch" {
		_, err := e.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "exit", "3"}))
		fmt.Printf("\r\nBUILD-ERROR: %v\r\n", err)
		return
	}
	failing := sdk.From("debian:bookworm").
		WithWorkdir("/work").
		WithEnv("FOO", "bar").
		WithMountedCache("/cache", sdk.CacheVolume("debug-shell-"+os.Getenv("LADING_TEST_DEBUG_ID"))).
		WithExec([]string{"sh", "-c", "echo data > /work/marker; echo cached > /cache/c; exit 3"})
	_, err := e.Build(t.Context(), failing)
	fmt.Printf("\r\nBUILD-ERROR: %v\r\n", err)
}

// ptyOutput collects what a program writes to its pseudo-terminal.
type ptyOutput struct {
	mu  sync.Mutex
	out bytes.Buffer
}

// readPTY reads ptmx into a ptyOutput until it is closed.
func readPTY(ptmx io.Reader) *ptyOutput {
	o := &ptyOutput{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			o.mu.Lock()
			o.out.Write(buf[:n])
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// seen is a condition for require.Eventually: s was written.
func (o *ptyOutput) seen(s string) func() bool {
	return func() bool { return strings.Contains(o.String(), s) }
}

// String is everything written so far (failure messages print it).
func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.out.String()
}

// startChild runs TestDebugShellChild in a new process.
func startChild(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestDebugShellChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), debugChildEnv+"="+mode, EnvInteractive+"=1",
		fmt.Sprintf("LADING_TEST_DEBUG_ID=%d", time.Now().UnixNano()))
	return cmd
}

func TestDebugShell(t *testing.T) {
	testenv.Require(t)
	cmd := startChild(t, "tty")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	require.NoError(t, err)
	defer ptmx.Close()

	out := readPTY(ptmx)
	seen, dump := out.seen, out
	require.Eventually(t, seen("a shell in its container"), 120*time.Second, 50*time.Millisecond, "no shell: %s", dump)
	_, err = io.WriteString(ptmx, `echo "MARK-$(cat /work/marker)-$FOO-$(pwd)-$(cat /cache/c)-$(id -u)"`+"\r")
	require.NoError(t, err)
	require.Eventually(t, seen("MARK-data-bar-/work-cached-0"), 20*time.Second, 50*time.Millisecond,
		"the shell is not in the failed step's filesystem, env, workdir and mounts: %s", dump)
	_, err = io.WriteString(ptmx, "exit\r")
	require.NoError(t, err)
	require.Eventually(t, seen("BUILD-ERROR"), 20*time.Second, 50*time.Millisecond, "the build did not return after the shell: %s", dump)
	_ = cmd.Wait()
	assert.Contains(t, dump.String(), "exited with code 3", "the program gets the step's error")
}

func TestDebugShellWithoutTerminal(t *testing.T) {
	testenv.Require(t)
	cmd := startChild(t, "plain")
	cmd.Stdin = nil // /dev/null
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "stderr: %s", stderr.String())
	assert.Contains(t, string(stdout), "exited with code 3")
	assert.Equal(t, 1, strings.Count(stderr.String(), "standard input is not a terminal"), "one line says why: %s", stderr.String())
}

func TestDebugShellWithoutShell(t *testing.T) {
	testenv.Require(t)
	cmd := startChild(t, "scratch")
	ptmx, err := pty.Start(cmd)
	require.NoError(t, err)
	defer ptmx.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&out, ptmx)
		close(done)
	}()
	_ = cmd.Wait()
	ptmx.Close()
	<-done
	assert.Contains(t, out.String(), "warning: the shell at the failed step could not run")
	assert.Contains(t, out.String(), "exited with code 3", "the program gets the step's error")
}

func TestTerminal(t *testing.T) {
	testenv.Require(t)
	cmd := startChild(t, "terminal")
	cmd.Env = append(cmd.Env, EnvInteractive+"=0")
	ptmx, err := pty.Start(cmd)
	require.NoError(t, err)
	defer ptmx.Close()
	out := readPTY(ptmx)
	seen, dump := out.seen, out
	require.Eventually(t, seen("a shell in the container"), 120*time.Second, 50*time.Millisecond, "no shell: %s", dump)
	_, err = io.WriteString(ptmx, `echo "T-$(cat hello)-$GREETING-$(pwd)"`+"\r")
	require.NoError(t, err)
	require.Eventually(t, seen("T-world-hi-/srv/data"), 20*time.Second, 50*time.Millisecond, "not in the container's filesystem, env and workdir: %s", dump)
	_, err = io.WriteString(ptmx, "exit\r")
	require.NoError(t, err)
	require.Eventually(t, seen("TERMINAL-RETURNED: <nil>"), 20*time.Second, 50*time.Millisecond, "Terminal did not return after the shell: %s", dump)
	_ = cmd.Wait()
}

func TestTerminalWithoutTerminal(t *testing.T) {
	e, _ := testEngine(t)
	if _, _, _, err := debugTerminal(); err == nil {
		t.Skip("the test's standard input is a terminal")
	}
	err := e.Terminal(t.Context(), sdk.From("debian:bookworm"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "standard input is not a terminal")
}
