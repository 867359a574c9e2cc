package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// isolateLocal points the local engine's files at temporary directories and
// stops whatever engine the test started.
func isolateLocal(t *testing.T) localPaths {
	t.Helper()
	// Short paths: a unix socket path must fit in 108 bytes, and
	// t.TempDir's, named after the test, can be longer.
	dir, err := os.MkdirTemp("", "ld-") //nolint:usetesting // unix socket paths must be short
	require.NoError(t, err)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("BUILDKIT_HOST", "")
	p := localEnginePaths()
	t.Cleanup(func() {
		if pid, alive := readPID(p); alive {
			assert.NoError(t, StopLocal(context.Background()), "stopping pid %d", pid)
		}
		unmountUnder(p.root)
		os.RemoveAll(dir)
	})
	return p
}

func TestLocalEngineStartReuseStop(t *testing.T) {
	bin := testenv.Buildkitd(t)
	p := isolateLocal(t)
	ctx := t.Context()

	st, err := LocalStatus(ctx)
	require.NoError(t, err)
	assert.False(t, st.Running)

	start := time.Now()
	le, err := StartLocal(ctx, WithBuildkitd(bin), Silent(),
		WithRegistryMirror("docker.io", "127.0.0.1:5000"), WithInsecureRegistry("127.0.0.1:5000"))
	elapsed := time.Since(start)
	require.NoError(t, err)
	t.Logf("local engine ready in %s", elapsed)
	assert.Less(t, elapsed, 2*time.Second, "target is 0.5 s; 2 s leaves room for a loaded machine")
	assert.True(t, le.Running)
	assert.Equal(t, "unix://"+p.socket, le.Address)
	assert.Equal(t, p.root, le.Root)
	assert.FileExists(t, p.pidFile)

	toml, err := os.ReadFile(p.config)
	require.NoError(t, err)
	assert.Contains(t, string(toml), "[registry.\"docker.io\"]\n  mirrors = [\"127.0.0.1:5000\"]")
	assert.Contains(t, string(toml), "[registry.\"127.0.0.1:5000\"]\n  http = true")
	assert.Contains(t, string(toml), `snapshotter = "overlayfs"`)

	// Reused, not restarted.
	again, err := StartLocal(ctx, WithBuildkitd(bin), Silent())
	require.NoError(t, err)
	assert.Equal(t, le.PID, again.PID)

	// Discovery finds it.
	var log logBuffer
	e, err := Connect(ctx, WithLogOutput(&log), WithoutAutoStart())
	require.NoError(t, err)
	assert.Equal(t, OriginLocal, e.Origin())
	assert.Contains(t, log.String(), "(local engine)")
	status, err := e.Status(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, status.Workers)
	assert.Equal(t, "overlayfs", status.Workers[0].Labels["org.mobyproject.buildkit.worker.snapshotter"])
	_, err = e.DiskUsage(ctx)
	require.NoError(t, err)
	_, err = e.Prune(ctx, PruneOptions{All: true})
	require.NoError(t, err)
	e.Close()

	require.NoError(t, StopLocal(ctx))
	st, err = LocalStatus(ctx)
	require.NoError(t, err)
	assert.False(t, st.Running)
	assert.NoFileExists(t, p.socket)
	assert.False(t, processAlive(le.PID))

	// Connect starts it when nothing runs.
	e, err = Connect(ctx, Silent(), WithBuildkitd(bin))
	require.NoError(t, err)
	defer e.Close()
	assert.Equal(t, OriginStarted, e.Origin())
}

// Two local engines on one host (two users, or a test beside a system
// daemon): one that starts must not break the other's steps. BuildKit's
// default trace socket is one path for every daemon; a daemon that starts
// replaces the file, and a step of another daemon that is mounting it
// then fails ("possibly malicious path detected"). Each lading engine
// keeps its own.
func TestLocalEngineStartLeavesOthersRunning(t *testing.T) {
	bin := testenv.Buildkitd(t)
	ctx := t.Context()
	pa := isolateLocal(t)
	_, err := StartLocal(ctx, WithBuildkitd(bin), Silent())
	require.NoError(t, err)
	before, err := os.Stat(pa.traceSocket())
	require.NoError(t, err)
	a, err := Connect(ctx, Silent(), WithProgress(ProgressQuiet), WithoutAutoStart())
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })

	pb := isolateLocal(t)
	_, err = StartLocal(ctx, WithBuildkitd(bin), Silent())
	require.NoError(t, err)
	assert.FileExists(t, pb.traceSocket())
	require.NoError(t, StopLocal(ctx))
	after, err := os.Stat(pa.traceSocket())
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "starting a second engine replaced the first one's trace socket")

	c := ltContainer(t).WithExec([]string{"/bin/lt", "echo", "alive", strconv.FormatInt(time.Now().UnixNano(), 10)})
	_, err = a.Build(ctx, c)
	require.NoError(t, err, "a step on the engine left running")
}

func TestLocalEngineAfterKill9(t *testing.T) {
	bin := testenv.Buildkitd(t)
	p := isolateLocal(t)
	ctx := t.Context()

	t0 := time.Now()
	le, err := StartLocal(ctx, WithBuildkitd(bin), Silent())
	require.NoError(t, err)
	t.Logf("started in %s", time.Since(t0))

	// Leave a running container and its mounts behind.
	e, err := Connect(ctx, Silent(), WithProgress(ProgressQuiet))
	require.NoError(t, err)
	started := make(chan struct{})
	e.s.events = func(ev Event) {
		if ev.Kind == StepStarted && strings.Contains(ev.Name, "sleep") {
			close(started)
		}
	}
	built := make(chan error, 1)
	prog := ltContainer(t).WithExec([]string{"/bin/lt", "sleep", "5"})
	go func() {
		_, err := e.Build(ctx, prog)
		built <- err
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the step did not start")
	}
	t.Logf("step started after %s", time.Since(t0))
	require.NoError(t, syscall.Kill(le.PID, syscall.SIGKILL))
	for processAlive(le.PID) {
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-built:
		require.Error(t, err, "the build of a killed engine fails")
	case <-time.After(30 * time.Second):
		t.Fatal("the build did not return after its engine was killed")
	}
	e.Close()
	t.Logf("killed after %s", time.Since(t0))
	assert.FileExists(t, p.socket, "a killed buildkitd leaves its socket")

	st, err := LocalStatus(ctx)
	require.NoError(t, err)
	assert.False(t, st.Running)

	t0 = time.Now()
	le2, err := StartLocal(ctx, WithBuildkitd(bin), Silent())
	require.NoError(t, err)
	t.Logf("restarted in %s", time.Since(t0))
	assert.NotEqual(t, le.PID, le2.PID)

	e2, err := Connect(ctx, Silent(), WithProgress(ProgressQuiet), WithoutAutoStart())
	require.NoError(t, err)
	defer e2.Close()
	t0 = time.Now()
	out, err := e2.Stdout(ctx, ltContainer(t).WithExec([]string{"/bin/lt", "echo", "alive"}))
	require.NoError(t, err)
	t.Logf("built in %s", time.Since(t0))
	assert.Equal(t, "alive\n", out)
}

func TestLocalEngineNeedsRunc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the root check comes first")
	}
	isolateLocal(t)
	t.Setenv("PATH", t.TempDir())
	_, err := Connect(t.Context(), Silent())
	require.ErrorIs(t, err, ErrNoEngine)
	assert.Contains(t, err.Error(), "apt-get install runc")
	assert.Contains(t, err.Error(), "BUILDKIT_HOST")
}

func TestBuildkitdConfig(t *testing.T) {
	s := defaultSettings()
	WithRegistryMirror("docker.io", "mirror.local:5000", "127.0.0.1:5000")(&s)
	WithInsecureRegistry("127.0.0.1:5000")(&s)
	p := localPaths{root: "/var/cache/lading/engine", socket: "/run/lading/buildkitd.sock"}
	got := buildkitdConfig(&s, p, diskBudget{bytes: 300 << 20, why: "engine.WithDiskBudget"})
	assert.Equal(t, `# Generated by lading; rewritten on every start.
root = "/var/cache/lading/engine"

[grpc]
  address = ["unix:///run/lading/buildkitd.sock"]

[otel]
  socketPath = "/run/lading/otel-grpc.sock"

[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  binary = "runc"
  # Disk budget: 314572800 bytes (engine.WithDiskBudget).
  gc = true

  # Step results and sources unused for 7 days.
  [[worker.oci.gcpolicy]]
    filters = ["type!=exec.cachemount"]
    keepDuration = "168h"

  # Cache volumes unused for 30 days.
  [[worker.oci.gcpolicy]]
    filters = ["type==exec.cachemount"]
    keepDuration = "720h"

  # Over budget: step results and sources, least recently used first.
  [[worker.oci.gcpolicy]]
    filters = ["type!=exec.cachemount"]
    maxUsedSpace = "314572800"
    minFreeSpace = "5%"

  # Still over: cache volumes too.
  [[worker.oci.gcpolicy]]
    maxUsedSpace = "314572800"
    minFreeSpace = "5%"

  # Still over: BuildKit's internal records as well.
  [[worker.oci.gcpolicy]]
    all = true
    maxUsedSpace = "314572800"
    minFreeSpace = "5%"

[worker.containerd]
  enabled = false

[registry."127.0.0.1:5000"]
  http = true
  insecure = true

[registry."docker.io"]
  mirrors = ["mirror.local:5000", "127.0.0.1:5000"]

`, got)
}

func TestLocalEnginePaths(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	t.Setenv("XDG_CACHE_HOME", "/home/u/.cache")
	p := localEnginePaths()
	assert.Equal(t, "/run/user/1000/lading/buildkitd.sock", p.socket)
	assert.Equal(t, "/home/u/.cache/lading/engine", p.root)
	assert.Equal(t, "/home/u/.cache/lading/bin/buildkitd", p.binary)

	t.Setenv("XDG_RUNTIME_DIR", "")
	assert.Equal(t, "/run/lading/buildkitd.sock", localEnginePaths().socket)
}
