package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

// buildkitdContainerFlags run the test environment's buildkitd image the
// way buildkitd needs: host network (only loopback is allowed here), and
// the rights of --privileged. These machines' own capability set lacks
// CAP_SYS_RESOURCE, which Docker 20.10's --privileged asks for, so the
// flags give everything but that instead.
var buildkitdContainerFlags = []string{
	"--network", "host",
	"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
	"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
	"--security-opt", "systempaths=unconfined",
	"-v", "/sys/fs/cgroup:/sys/fs/cgroup",
}

// startBuildkitdContainer starts a buildkitd container in the test
// environment's dockerd, waits until it answers and removes it (with its
// state volume) when the test ends.
func startBuildkitdContainer(t *testing.T, d testenv.DockerEnv) string {
	t.Helper()
	name := "lading-dood-" + strings.ToLower(testenv.Token(t))
	args := append([]string{"run", "-d", "--name", name}, buildkitdContainerFlags...)
	d.Run(t, append(args, d.BuildkitdImage, "--addr", "unix:///run/buildkit/buildkitd.sock")...)
	t.Cleanup(func() { _ = exec.Command(d.CLI, "-H", d.Host, "rm", "-fv", name).Run() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := exec.CommandContext(t.Context(), d.CLI, "-H", d.Host, "exec", name, "buildctl", "debug", "workers").Run()
		if err == nil {
			return name
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command(d.CLI, "-H", d.Host, "logs", name).CombinedOutput()
			t.Fatalf("buildkitd in container %s did not answer within 30s: %v\n%s", name, err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A docker-container:// engine is reached through Docker's API: a
// different program named docker first on PATH (as on these machines) is
// never run. BuildKit's own connection helper would run it, and fail.
func TestDockerContainerEngine(t *testing.T) {
	d := testenv.Docker(t)
	name := startBuildkitdContainer(t, d)

	fake := t.TempDir()
	marker := filepath.Join(fake, "ran")
	require.NoError(t, os.WriteFile(filepath.Join(fake, "docker"),
		[]byte("#!/bin/sh\ntouch "+marker+"\necho 'not the Docker CLI' >&2\nexit 1\n"), 0o755))
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))

	addr := "docker-container://" + name
	eng, err := engine.Connect(t.Context(), engine.WithAddress(addr), engine.WithDockerHost(d.Host),
		engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
	require.NoError(t, err)
	defer eng.Close()
	assert.Equal(t, addr, eng.Address())

	// A base image pulled through the engine's mirror, a host directory
	// sent through the session, and a step's output read back: all over
	// the exec stream.
	src := t.TempDir()
	token := testenv.Token(t)
	require.NoError(t, os.WriteFile(filepath.Join(src, "word"), []byte(token), 0o644))
	out, err := eng.Stdout(t.Context(), sdk.From("debian:bookworm-slim").
		WithDirectory("/in", sdk.Host(src)).
		WithExec([]string{"sh", "-c", "echo dood $(cat /in/word)"}))
	require.NoError(t, err)
	assert.Equal(t, "dood "+token+"\n", out)
	assert.NoFileExists(t, marker, "the docker program on PATH was run")
}

func TestDockerContainerEngineErrors(t *testing.T) {
	d := testenv.Docker(t)
	ctx := t.Context()
	_, err := engine.Connect(ctx, engine.WithAddress("docker-container://lading-no-such-container"),
		engine.WithDockerHost(d.Host), engine.Silent())
	require.ErrorIs(t, err, engine.ErrNoEngine)
	assert.Contains(t, err.Error(), "no container lading-no-such-container in the Docker daemon at "+d.Host)

	stopped := "lading-dood-stopped-" + strings.ToLower(testenv.Token(t))
	d.Run(t, "create", "--name", stopped, d.BuildkitdImage)
	t.Cleanup(func() { _ = exec.Command(d.CLI, "-H", d.Host, "rm", "-fv", stopped).Run() })
	_, err = engine.Connect(ctx, engine.WithAddress("docker-container://"+stopped), engine.WithDockerHost(d.Host), engine.Silent())
	require.ErrorIs(t, err, engine.ErrNoEngine)
	assert.Contains(t, err.Error(), "container "+stopped+" in the Docker daemon at "+d.Host+" is created: start it")

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, err = engine.Connect(ctx, engine.WithAddress("docker-container://x?context=remote"), engine.Silent())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Docker context "remote" (the address's context)`)

	sock := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	_, err = engine.Connect(ctx, engine.WithAddress("docker-container://x"), engine.WithDockerHost(sock), engine.Silent())
	require.ErrorIs(t, err, engine.ErrNoEngine)
	// gRPC keeps only the text of a dialer's error, not ErrNoDaemon.
	assert.Contains(t, err.Error(), "no container daemon answers: docker at "+sock)
}

// runnerEnv makes this test binary, run with it set, the pipeline program
// of TestPipelineInContainerReachesEngineThroughSocket: building a
// separate program would compile lading and BuildKit again (minutes on
// two cores, and CI's test binaries are built with -race).
const runnerEnv = "LADING_TEST_DOOD_RUNNER"

func init() {
	if os.Getenv(runnerEnv) != "1" {
		return
	}
	p := pipeline.New("runner")
	src := p.Flags().String("src", "/src", "directory holding the word to print")
	p.Target("hello", "print the word in -src from a step on the engine", func(ctx context.Context, e *engine.Engine) error {
		out, err := e.Stdout(ctx, sdk.From("debian:bookworm-slim").
			WithDirectory("/in", sdk.Host(*src)).
			WithExec([]string{"cat", "/in/word"}))
		if err != nil {
			return err
		}
		fmt.Printf("the step said: %s\n", out)
		return nil
	})
	p.Main()
	os.Exit(0)
}

// The runner pattern of GitLab and Jenkins: the pipeline program itself
// runs in the job's container (here debian:bookworm-slim, which dockerd
// pulls through its mirror, the local registry) and reaches the engine
// through its socket, mounted into the container and named by
// BUILDKIT_HOST. The program is mounted too, as a runner mounts the
// job's checkout; the host directory it sends is the container's own.
func TestPipelineInContainerReachesEngineThroughSocket(t *testing.T) {
	d := testenv.Docker(t)
	env := testenv.Require(t)
	sock, ok := strings.CutPrefix(env.BuildkitHost, "unix://")
	require.True(t, ok, "BUILDKIT_HOST %s is not a unix socket", env.BuildkitHost)
	exe, err := os.Executable()
	require.NoError(t, err)
	d.Run(t, "pull", "-q", "debian:bookworm-slim")

	job := t.TempDir()
	token := testenv.Token(t)
	require.NoError(t, os.WriteFile(filepath.Join(job, "word"), []byte(token), 0o644))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, d.CLI, "-H", d.Host, "run", "--rm", "--network", "host",
		"-v", sock+":/run/buildkit/buildkitd.sock",
		"-e", "BUILDKIT_HOST=unix:///run/buildkit/buildkitd.sock",
		"-e", runnerEnv+"=1",
		"-v", exe+":/usr/local/bin/ci:ro",
		"-v", job+":/src:ro",
		"debian:bookworm-slim", "/usr/local/bin/ci", "-src", "/src", "hello")
	out, err := run.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "using engine unix:///run/buildkit/buildkitd.sock (BUILDKIT_HOST)")
	assert.Contains(t, string(out), "the step said: "+token)
}
