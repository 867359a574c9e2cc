package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// A Docker address that is a BuildKit engine's socket (BUILDKIT_HOST and
// DOCKER_HOST mixed up) is named as such, not as a TLS problem.
func TestDockerHostThatIsBuildkitdSaysSo(t *testing.T) {
	env := testenv.Require(t)
	_, err := dialDaemon(t.Context(), kindDocker, daemonTarget{addr: env.BuildkitHost, from: "DOCKER_HOST"})
	require.ErrorIs(t, err, ErrNoDaemon)
	msg := err.Error()
	assert.Contains(t, msg, "answers HTTP/2 (gRPC), as a BuildKit engine does, not Docker's API")
	assert.Contains(t, msg, "BUILDKIT_HOST names the engine, DOCKER_HOST the Docker daemon")
	assert.NotContains(t, msg, "TLS-enabled daemon")
}
