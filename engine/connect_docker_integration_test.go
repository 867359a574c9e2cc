package engine

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// A docker-container:// address naming a running container that is not a
// BuildKit engine (no buildctl in it) says so, instead of the HTTP/2
// error the daemon's text would cause when read as gRPC.
func TestDockerContainerWithoutBuildctlSaysSo(t *testing.T) {
	d := testenv.Docker(t)
	name := "lading-nobuildctl-" + strings.ToLower(testenv.Token(t))
	// The engine image, its PATH emptied, and sleeping: a running
	// container in which buildctl cannot be found.
	d.Run(t, "run", "-d", "--name", name, "--network", "host", "-e", "PATH=/nonexistent",
		"--entrypoint", "/bin/sleep", d.BuildkitdImage, "600")
	t.Cleanup(func() { _ = exec.Command(d.CLI, "-H", d.Host, "rm", "-f", name).Run() })
	_, err := Connect(t.Context(), WithAddress("docker-container://"+name), WithDockerHost(d.Host), Silent())
	require.ErrorIs(t, err, ErrNoEngine)
	msg := err.Error()
	assert.Contains(t, msg, "buildctl dial-stdio in container "+name+" did not start")
	assert.Contains(t, msg, "executable file not found")
	assert.Contains(t, msg, "moby/buildkit")
	assert.NotContains(t, msg, "frame too large")
	t.Log(msg)
}
