package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

func TestParseTags(t *testing.T) {
	for _, tc := range []struct {
		refs    []string
		want    []string
		wantErr string
	}{
		{refs: []string{"registry.example.com/app:1.4.2"}, want: []string{"registry.example.com/app:1.4.2"}},
		{refs: []string{"app:1", "latest", "1.0"}, want: []string{"docker.io/library/app:1", "docker.io/library/app:latest", "docker.io/library/app:1.0"}},
		{refs: []string{"127.0.0.1:5000/a/b:x", "127.0.0.1:5000/other:y"}, want: []string{"127.0.0.1:5000/a/b:x", "127.0.0.1:5000/other:y"}},
		{refs: []string{"registry.example.com/app"}, wantErr: `has no tag: a bare name would push "registry.example.com/app:latest"`},
		{refs: []string{"app:1", "other/app"}, wantErr: "has no tag"},
		{refs: []string{""}, wantErr: "needs an image reference with a tag"},
		{refs: []string{"UPPER:1"}, wantErr: "invalid image reference"},
		{refs: []string{"app:1", "bad tag"}, wantErr: "invalid tag"},
	} {
		t.Run(fmt.Sprint(tc.refs), func(t *testing.T) {
			got, err := parseTags(tc.refs)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, n := range got {
				names = append(names, n.String())
			}
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestProgressMode(t *testing.T) {
	t.Setenv("LADING_PROGRESS", "")
	m, err := progressMode("")
	require.NoError(t, err)
	assert.Equal(t, ProgressAuto, m)

	t.Setenv("LADING_PROGRESS", "rawjson")
	m, err = progressMode("")
	require.NoError(t, err)
	assert.Equal(t, ProgressRawJSON, m)

	m, err = progressMode(ProgressQuiet)
	require.NoError(t, err)
	assert.Equal(t, ProgressQuiet, m, "the option beats the environment")

	t.Setenv("LADING_PROGRESS", "fancy")
	_, err = progressMode("")
	require.ErrorContains(t, err, `unknown progress mode "fancy"`)
	_, err = Connect(t.Context(), Silent(), WithAddress("unix:///nonexistent.sock"))
	require.ErrorContains(t, err, "unknown progress mode")
}

func TestWrapCanceled(t *testing.T) {
	grpcCanceled := fmt.Errorf("failed to solve: %w", status.Error(codes.Canceled, "context canceled"))
	require.NotErrorIs(t, grpcCanceled, context.Canceled, "BuildKit's error does not match by itself")

	require.ErrorIs(t, wrapCanceled(context.Background(), grpcCanceled), context.Canceled)
	deadline := status.Error(codes.DeadlineExceeded, "deadline")
	require.ErrorIs(t, wrapCanceled(context.Background(), deadline), context.DeadlineExceeded)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	other := errors.New("connection reset")
	err := wrapCanceled(ctx, other)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, other)
	assert.Equal(t, "connection reset", err.Error())

	assert.Equal(t, other, wrapCanceled(context.Background(), other))
	assert.NoError(t, wrapCanceled(ctx, nil))
}

func TestExecErrorMessage(t *testing.T) {
	xe := &ExecError{Step: "exec make test", Args: []string{"make", "test"}, ExitCode: 2, Output: []string{"FAIL x", "exit 2"}, Location: "ci/main.go:42"}
	assert.Equal(t, "step \"exec make test\" (ci/main.go:42) exited with code 2; last output:\n  FAIL x\n  exit 2", xe.Error())
	wrapped := fmt.Errorf("build: %w", xe)
	var got *ExecError
	require.ErrorAs(t, wrapped, &got)
	assert.Equal(t, 2, got.ExitCode)
	assert.Equal(t, `step "a b" exited with code 1`, (&ExecError{Args: []string{"a", "b"}, ExitCode: 1}).Error())
}

func TestMonitor(t *testing.T) {
	vtx := digest.FromString("exec")
	var events []Event
	m := newMonitor(newScrubber([][]byte{[]byte("topsecret")}), func(ev Event) { events = append(events, ev) })
	m.setProgram(map[string]lllb.Step{vtx.String(): {ID: "exec-1", Name: "exec make", Location: "ci/main.go:7"}}, vtx)

	var shown logBuffer
	ch := make(chan *client.SolveStatus)
	wait, err := m.run(t.Context(), ch, ProgressPlain, &shown)
	require.NoError(t, err)
	t0 := time.Now()
	t1 := t0.Add(time.Second)
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: vtx, Name: "[1/1] exec make", Started: &t0}}}
	// The secret is split across two chunks; output is held until the
	// line ends so it can still be scrubbed.
	ch <- &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: vtx, Stream: 1, Data: []byte("token=top"), Timestamp: t0}}}
	ch <- &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: vtx, Stream: 1, Data: []byte("secret ok\nsecond"), Timestamp: t0}}}
	ch <- &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: vtx, Stream: 2, Data: []byte("warn\n"), Timestamp: t0}}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: vtx, Name: "[1/1] exec make", Started: &t0, Completed: &t1, Error: "exit topsecret"}}}
	close(ch)
	wait()

	assert.Equal(t, "token=*** ok\nsecond", m.captured(StreamStdout))
	assert.Equal(t, "warn\n", m.captured(StreamStderr))
	assert.Equal(t, []string{"token=*** ok", "warn", "second"}, m.tail(vtx))
	assert.NotContains(t, shown.String(), "topsecret")
	assert.Contains(t, shown.String(), "token=*** ok")

	var kinds []string
	for _, ev := range events {
		assert.Equal(t, "exec-1", ev.StepID)
		assert.Equal(t, "ci/main.go:7", ev.Location)
		assert.Equal(t, "exec make", ev.Name)
		kinds = append(kinds, ev.Kind.String()+":"+ev.Line)
	}
	assert.Equal(t, []string{"started:", "log:token=*** ok", "log:warn", "log:second", "failed:"}, kinds)
	assert.Equal(t, "exit ***", events[len(events)-1].Error)
	assert.Equal(t, time.Second, events[len(events)-1].Duration)

	s := m.summary(2 * time.Second)
	assert.Equal(t, 1, s.Ran)
	require.Len(t, s.Steps, 1)
	assert.Equal(t, "exit ***", s.Steps[0].Error)
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out.tar")
	f := &atomicFile{dest: dest}
	w, err := f.create()
	require.NoError(t, err)
	_, err = w.Write([]byte("data"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.NoFileExists(t, dest, "nothing at the destination before commit")
	f.cleanup()
	ents, _ := os.ReadDir(dir)
	assert.Empty(t, ents, "cleanup removes the temporary file")

	f = &atomicFile{dest: dest}
	w, err = f.create()
	require.NoError(t, err)
	_, err = w.Write([]byte("data"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, f.commit())
	f.cleanup()
	dt, err := os.ReadFile(dest)
	require.NoError(t, err)
	assert.Equal(t, "data", string(dt))
	ents, _ = os.ReadDir(dir)
	assert.Len(t, ents, 1)
}

func TestGitRemote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://github.com/org/repo.git":  "github.com/org/repo",
		"http://127.0.0.1:5/repo.git":      "127.0.0.1:5/repo",
		"git://host/r":                     "host/r",
		"https://user@host/org/repo":       "host/org/repo",
		"127.0.0.1:5/repo.git":             "127.0.0.1:5/repo",
		"ssh://git@github.com/org/a@b.git": "github.com/org/a@b",
	} {
		assert.Equal(t, want, gitRemote(in), in)
	}
}
