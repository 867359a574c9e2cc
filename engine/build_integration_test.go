package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

func TestStdoutStderr(t *testing.T) {
	e, _ := testEngine(t)
	c := ltContainer(t)
	out, err := e.Stdout(t.Context(), c.WithExec([]string{"/bin/lt", "echo", "hello", "world"}))
	require.NoError(t, err)
	assert.Equal(t, "hello world\n", out)

	// Cached the second time, yet the output is there again.
	out, err = e.Stdout(t.Context(), c.WithExec([]string{"/bin/lt", "echo", "hello", "world"}))
	require.NoError(t, err)
	assert.Equal(t, "hello world\n", out)

	errOut, err := e.Stderr(t.Context(), c.WithExec([]string{"/bin/lt", "err", "oops"}))
	require.NoError(t, err)
	assert.Equal(t, "oops\n", errOut)
}

func TestExecError(t *testing.T) {
	e, _ := testEngine(t)
	c := ltContainer(t).WithExec([]string{"/bin/lt", "exit", "3", "first line", "last words"})
	_, err := e.Build(t.Context(), c)
	require.Error(t, err)
	var xe *ExecError
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, 3, xe.ExitCode)
	assert.Equal(t, []string{"/bin/lt", "exit", "3", "first line", "last words"}, xe.Args)
	assert.Contains(t, xe.Output, "last words")
	assert.Contains(t, xe.Location, "build_integration_test.go:")
	assert.NotEmpty(t, xe.Step)
	assert.Contains(t, err.Error(), "exited with code 3")
	assert.Contains(t, err.Error(), "last words")
}

func TestCancel(t *testing.T) {
	e, _ := testEngine(t)
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{}, 1)
	e2 := *e
	e2.s.events = func(ev Event) {
		if ev.Kind == StepStarted && strings.Contains(ev.Name, "sleep") {
			select {
			case started <- struct{}{}:
			default:
			}
		}
	}
	c := ltContainer(t).WithExec([]string{"/bin/lt", "sleep", "30", strconv.FormatInt(time.Now().UnixNano(), 10)})
	errc := make(chan error, 1)
	go func() { _, err := e2.Build(ctx, c); errc <- err }()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("build ended before the step started: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the sleep step did not start")
	}
	cancel()
	t0 := time.Now()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(t0), 2*time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("Build did not return within 5s of cancellation")
	}
}

func TestEventsAndSummary(t *testing.T) {
	var events []Event
	e, _ := testEngine(t, WithEvents(func(ev Event) { events = append(events, ev) }))
	c := ltContainer(t).WithExec([]string{"/bin/lt", "echo", "summary", strconv.FormatInt(time.Now().UnixNano(), 10)})

	res, err := e.Build(t.Context(), c)
	require.NoError(t, err)
	exec := findStep(t, res.Summary, "exec /bin/lt echo summary")
	assert.False(t, exec.Cached)
	assert.Contains(t, exec.Location, "build_integration_test.go:")
	assert.NotEmpty(t, exec.StepID)
	assert.GreaterOrEqual(t, res.Summary.Ran, 1)

	var kinds []EventKind
	var lines []string
	for _, ev := range events {
		if ev.StepID == exec.StepID {
			kinds = append(kinds, ev.Kind)
			if ev.Kind == StepLog {
				lines = append(lines, ev.Line)
			}
		}
	}
	assert.Equal(t, StepStarted, kinds[0])
	assert.Equal(t, StepDone, kinds[len(kinds)-1])
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], "summary "))

	events = nil
	res, err = e.Build(t.Context(), c)
	require.NoError(t, err)
	exec = findStep(t, res.Summary, "exec /bin/lt echo summary")
	assert.True(t, exec.Cached, "the second run is served from the cache")
	assert.GreaterOrEqual(t, res.Summary.Cached, 1)
	var cached bool
	for _, ev := range events {
		if ev.StepID == exec.StepID {
			assert.NotEqual(t, StepStarted, ev.Kind)
			cached = cached || ev.Kind == StepCached
		}
	}
	assert.True(t, cached)
	assert.Contains(t, res.Summary.String(), "cached")
}

func findStep(t *testing.T, s Summary, prefix string) StepSummary {
	t.Helper()
	for _, st := range s.Steps {
		if strings.HasPrefix(st.Name, prefix) {
			return st
		}
	}
	t.Fatalf("no step %q in summary:\n%s", prefix, s)
	return StepSummary{}
}

func TestHostDirectoryFilters(t *testing.T) {
	e, _ := testEngine(t)
	src := t.TempDir()
	for name, body := range map[string]string{
		"main.go":       "package main",
		"debug.log":     "noise",
		"secret.env":    "X=1",
		"sub/keep.txt":  "keep",
		".dockerignore": "*.env\n",
	} {
		p := filepath.Join(src, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	out := filepath.Join(t.TempDir(), "out")
	require.NoError(t, e.Export(t.Context(), sdk.Host(src, sdk.Exclude("*.log")), out))
	var got []string
	require.NoError(t, filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, rel)
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"main.go", "sub/keep.txt", ".dockerignore"}, got)
}

// inHistory reports whether the daemon's build history has a record ref.
func inHistory(t *testing.T, e *Engine, ref string) bool {
	t.Helper()
	cl, err := e.c.ControlClient().ListenBuildHistory(t.Context(), &controlapi.BuildHistoryRequest{Ref: ref, EarlyExit: true})
	require.NoError(t, err)
	_, err = cl.Recv()
	if errors.Is(err, io.EOF) {
		return false
	}
	require.NoError(t, err)
	return true
}

func TestProxyStaysOutOfBuildHistory(t *testing.T) {
	e, _ := testEngine(t)
	plain, err := e.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "echo", uniqueTag(t)}))
	require.NoError(t, err)
	require.NotEmpty(t, plain.BuildID)
	assert.True(t, inHistory(t, e, plain.BuildID), "an ordinary build is recorded")

	proxied := ltContainer(t).
		WithProxy(sdk.Proxy{HTTP: "http://proxy.invalid:3128"}).
		WithExec([]string{"/bin/lt", "env", "HTTP_PROXY", uniqueTag(t)})
	res, err := e.Build(t.Context(), proxied)
	require.NoError(t, err)
	assert.Empty(t, res.BuildID, "a build with a proxy is internal: no history record, and no reference handed out")

	out, err := e.Stdout(t.Context(), proxied)
	require.NoError(t, err)
	assert.Equal(t, "http://proxy.invalid:3128\n", out, "the step sees the proxy")
}

func TestStdoutNeedsAnExec(t *testing.T) {
	e, _ := testEngine(t)
	_, err := e.Stdout(t.Context(), ltContainer(t).WithNewFile("/x", "x"))
	require.ErrorContains(t, err, "no exec step")
}

// A base image that does not exist fails with the Go line of its From call
// and of no other step.
func TestMissingBaseImageNamesItsFromLine(t *testing.T) {
	e, _ := testEngine(t)
	_, file, line, _ := runtime.Caller(0)
	c := sdk.From("debian:does-not-exist-" + uniqueTag(t)).WithExec([]string{"true"})
	_, err := e.Build(t.Context(), c)
	require.Error(t, err)
	at := filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file) + ":" + strconv.Itoa(line+1)
	assert.Contains(t, err.Error(), at, "the error names the From call")
	assert.Contains(t, err.Error(), "does-not-exist", "and the reference")
	assert.NotErrorIs(t, err, ErrNoEngine)
}
