package engine

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// PodmanLoad with several tags gives Podman every one under the name
// Result.Loaded reports: Docker Hub names stay docker.io/… (Podman would
// otherwise file the extra names of an archive under localhost/), and a
// registry with a port and a nested path is kept as given.
func TestPodmanLoadWithSeveralTags(t *testing.T) {
	d := testenv.Docker(t)
	e, _ := testEngine(t)
	tag := uniqueTag(t)
	ref := "lading-test/podman-tags:" + tag
	nested := "127.0.0.1:5000/lading-test/nested/podman:" + tag
	res, err := e.Build(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt", "echo", "tags", tag),
		PodmanLoad(ref, "also-"+tag, nested).At(d.PodmanHost))
	t.Cleanup(func() {
		// Each name alone: podman rm stops at the first it cannot find.
		for _, n := range []string{"docker.io/" + ref, "docker.io/lading-test/podman-tags:also-" + tag,
			"localhost/" + ref, "localhost/lading-test/podman-tags:also-" + tag, nested} {
			_ = exec.Command(d.Podman, "--remote", "--url", d.PodmanHost, "image", "rm", n).Run()
		}
	})
	require.NoError(t, err)
	require.Len(t, res.Loaded, 1)
	want := []string{"docker.io/" + ref, "docker.io/lading-test/podman-tags:also-" + tag, nested}
	assert.Equal(t, want, res.Loaded[0].Tags)

	var inspect []struct {
		ID       string `json:"Id"`
		RepoTags []string
	}
	require.NoError(t, json.Unmarshal([]byte(d.RunPodman(t, "image", "inspect", "docker.io/"+ref)), &inspect))
	require.Len(t, inspect, 1)
	assert.ElementsMatch(t, want, inspect[0].RepoTags)
	assert.Equal(t, "tags "+tag+"\n", d.RunPodman(t, "run", "--rm", "--network", "host", "docker.io/lading-test/podman-tags:also-"+tag))
}

// DockerLoad pointed at Podman's Docker-compatible service (what
// podman-docker users have as DOCKER_HOST) gets the same names.
func TestDockerLoadIntoPodmansServiceKeepsEveryTag(t *testing.T) {
	d := testenv.Docker(t)
	e, _ := testEngine(t)
	tag := uniqueTag(t)
	ref := "lading-test/docker-api-podman:" + tag
	res, err := e.Build(t.Context(), ltContainer(t), DockerLoad(ref, "also-"+tag).At(d.PodmanHost))
	t.Cleanup(func() {
		for _, n := range []string{"docker.io/" + ref, "docker.io/lading-test/docker-api-podman:also-" + tag,
			"localhost/" + ref, "localhost/lading-test/docker-api-podman:also-" + tag} {
			_ = exec.Command(d.Podman, "--remote", "--url", d.PodmanHost, "image", "rm", n).Run()
		}
	})
	require.NoError(t, err)
	require.Len(t, res.Loaded, 1)
	var inspect []struct{ RepoTags []string }
	require.NoError(t, json.Unmarshal([]byte(d.RunPodman(t, "image", "inspect", "docker.io/"+ref)), &inspect))
	require.Len(t, inspect, 1)
	assert.ElementsMatch(t, res.Loaded[0].Tags, inspect[0].RepoTags)
}
