package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A daemon address Docker's client cannot parse (a bare socket path, as
// DOCKER_HOST is often set by mistake) is named with the forms it takes.
func TestDaemonAddressWithoutScheme(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"/var/run/docker.sock", "nowhere"} {
		_, err := dialDaemon(t.Context(), kindDocker, daemonTarget{addr: addr, from: "DOCKER_HOST"})
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, `docker address "`+addr+`" (from DOCKER_HOST)`)
		assert.Contains(t, msg, "unix:///var/run/docker.sock")
		assert.Contains(t, msg, "tcp://HOST:2376")
	}
	_, err := dialDaemon(t.Context(), kindPodman, daemonTarget{addr: "/run/user/1000/podman/podman.sock", from: "CONTAINER_HOST"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did you mean unix:///run/user/1000/podman/podman.sock?", "a bare path is shown as the address it means")
}
