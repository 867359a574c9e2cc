package engine

import (
	"context"
	"encoding/json"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	dockerclient "github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// runInDocker runs image in the daemon at host through Docker's API, as
// `docker run --network host --rm` does, and returns its stdout.
func runInDocker(t *testing.T, host, image string, args ...string) string {
	t.Helper()
	ctx := t.Context()
	c, err := dockerclient.New(dockerclient.WithHost(host))
	require.NoError(t, err)
	defer c.Close()
	created, err := c.ContainerCreate(ctx, dockerclient.ContainerCreateOptions{
		Config:     &container.Config{Image: image, Cmd: args},
		HostConfig: &container.HostConfig{NetworkMode: "host"},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), created.ID, dockerclient.ContainerRemoveOptions{Force: true})
	})
	wait := c.ContainerWait(ctx, created.ID, dockerclient.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	_, err = c.ContainerStart(ctx, created.ID, dockerclient.ContainerStartOptions{})
	require.NoError(t, err)
	select {
	case res := <-wait.Result:
		require.Zero(t, res.StatusCode, "exit code of %s", image)
	case err := <-wait.Error:
		require.NoError(t, err)
	}
	logs, err := c.ContainerLogs(ctx, created.ID, dockerclient.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	require.NoError(t, err)
	defer logs.Close()
	var stdout, stderr strings.Builder
	_, err = stdcopy.StdCopy(&stdout, &stderr, logs)
	require.NoError(t, err)
	return stdout.String()
}

// dockerArchiveConfig returns the config digest a Docker image archive
// names for its (only) image.
func dockerArchiveConfig(t *testing.T, archive string) string {
	t.Helper()
	_, files := tarEntries(t, archive, "manifest.json")
	var m []struct{ Config string }
	require.NoError(t, json.Unmarshal(files["manifest.json"], &m))
	require.Len(t, m, 1)
	return "sha256:" + path.Base(m[0].Config)
}

func TestDockerLoadRunsTheImage(t *testing.T) {
	d := testenv.Docker(t)
	e, _ := testEngine(t, WithDockerHost(d.Host))
	tag := uniqueTag(t)
	ref := "lading-test/load:" + tag
	c := ltContainer(t).WithLabel("org.ladingbuild.test", tag).
		WithEntrypoint("/bin/lt", "echo").WithDefaultArgs("hello from", tag)
	archive := filepath.Join(t.TempDir(), "image.tar")
	res, err := e.Build(t.Context(), c, DockerLoad(ref, "also-"+tag), DockerTarball(archive, ref))
	require.NoError(t, err)
	t.Cleanup(func() { d.Run(t, "image", "rm", "-f", ref, "lading-test/load:also-"+tag) })

	require.Len(t, res.Loaded, 1)
	li := res.Loaded[0]
	assert.Equal(t, "docker", li.Daemon)
	assert.Equal(t, d.Host, li.Host)
	assert.Equal(t, []string{"docker.io/" + ref, "docker.io/lading-test/load:also-" + tag}, li.Tags)
	// The daemon holds exactly the image built: its ID is the config
	// digest the Docker archive of the same build names.
	assert.Equal(t, dockerArchiveConfig(t, archive), li.ID)

	// Debian's docker CLI, an independent reader, sees both tags and the
	// image's config.
	var inspect []struct {
		ID       string `json:"Id"`
		RepoTags []string
		Config   struct{ Labels map[string]string }
	}
	require.NoError(t, json.Unmarshal([]byte(d.Run(t, "image", "inspect", ref)), &inspect))
	require.Len(t, inspect, 1)
	assert.Equal(t, li.ID, inspect[0].ID)
	assert.ElementsMatch(t, []string{ref, "lading-test/load:also-" + tag}, inspect[0].RepoTags)
	assert.Equal(t, tag, inspect[0].Config.Labels["org.ladingbuild.test"])

	// And it runs (host network: these machines only allow loopback).
	assert.Equal(t, "hello from "+tag+"\n", runInDocker(t, d.Host, ref))
	assert.Equal(t, "again\n", runInDocker(t, d.Host, ref, "again"))
}

func TestPodmanLoadRunsTheImage(t *testing.T) {
	d := testenv.Docker(t)
	e, _ := testEngine(t)
	tag := uniqueTag(t)
	ref := "lading-test/podman:" + tag
	c := ltContainer(t).WithEntrypoint("/bin/lt", "echo").WithDefaultArgs("hello podman", tag)
	res, err := e.Build(t.Context(), c, PodmanLoad(ref).At(d.PodmanHost))
	require.NoError(t, err)
	t.Cleanup(func() { d.RunPodman(t, "image", "rm", "-f", ref) })
	require.Len(t, res.Loaded, 1)
	li := res.Loaded[0]
	assert.Equal(t, "podman", li.Daemon)
	assert.Equal(t, d.PodmanHost, li.Host)

	// Podman's own CLI sees the image under its tag and runs it.
	var inspect []struct {
		ID       string `json:"Id"`
		RepoTags []string
	}
	require.NoError(t, json.Unmarshal([]byte(d.RunPodman(t, "image", "inspect", ref)), &inspect))
	require.Len(t, inspect, 1)
	assert.Equal(t, strings.TrimPrefix(li.ID, "sha256:"), strings.TrimPrefix(inspect[0].ID, "sha256:"))
	assert.Contains(t, inspect[0].RepoTags, "docker.io/"+ref)
	out := d.RunPodman(t, "run", "--rm", "--network", "host", ref)
	assert.Equal(t, "hello podman "+tag+"\n", out)
}

func TestDockerLoadWithoutDaemonSaysWhere(t *testing.T) {
	e, _ := testEngine(t)
	sock := "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	_, err := e.Build(t.Context(), ltContainer(t), DockerLoad("app:1").At(sock))
	require.ErrorIs(t, err, ErrNoDaemon)
	assert.Contains(t, err.Error(), sock)
	assert.Contains(t, err.Error(), "DOCKER_HOST")

	t.Setenv("DOCKER_HOST", sock)
	_, err = e.Build(t.Context(), ltContainer(t), DockerLoad("app:1"))
	require.ErrorIs(t, err, ErrNoDaemon)
	assert.Contains(t, err.Error(), "(from DOCKER_HOST)")

	t.Setenv("CONTAINER_HOST", sock)
	_, err = e.Build(t.Context(), ltContainer(t), PodmanLoad("app:1"))
	require.ErrorIs(t, err, ErrNoDaemon)
	assert.Contains(t, err.Error(), "podman system service")
}

func TestDockerLoadOfADirectoryIsRefused(t *testing.T) {
	e, _ := testEngine(t)
	_, err := e.Build(t.Context(), ltContainer(t).Directory("/bin"), DockerLoad("app:1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only a container can be loaded")
}

// A failed step loads nothing into the daemon.
func TestDockerLoadOfAFailedBuildTagsNothing(t *testing.T) {
	d := testenv.Docker(t)
	e, _ := testEngine(t, WithDockerHost(d.Host))
	ref := "lading-test/failed:" + uniqueTag(t)
	_, err := e.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "exit", "3"}), DockerLoad(ref))
	var xe *ExecError
	require.ErrorAs(t, err, &xe)
	out, err := exec.CommandContext(t.Context(), d.CLI, "-H", d.Host, "image", "inspect", ref).CombinedOutput()
	require.Error(t, err, "the failed build's image is in the daemon: %s", out)
	assert.Contains(t, string(out), "No such image")
}

// Without DOCKER_HOST, the Docker CLI context in use names the daemon, as
// for Docker's CLI: here one made by Debian's docker CLI itself.
func TestDockerLoadThroughDockerContext(t *testing.T) {
	d := testenv.Docker(t)
	e, _ := testEngine(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"context", "create", "lading-test", "--docker", "host=" + d.Host},
		{"context", "use", "lading-test"},
	} {
		out, err := exec.CommandContext(t.Context(), d.CLI, append([]string{"--config", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	ref := "lading-test/context:" + uniqueTag(t)
	res, err := e.Build(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt", "echo", "via context"), DockerLoad(ref))
	require.NoError(t, err)
	t.Cleanup(func() { d.Run(t, "image", "rm", "-f", ref) })
	require.Len(t, res.Loaded, 1)
	assert.Equal(t, d.Host, res.Loaded[0].Host)
	assert.Equal(t, "via context\n", runInDocker(t, d.Host, ref))
}
