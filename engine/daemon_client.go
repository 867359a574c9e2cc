package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	dockerclient "github.com/moby/moby/client"
)

// daemonKind names the container daemons lading talks to through Docker's
// API: Docker itself, and Podman's Docker-compatible service.
type daemonKind string

const (
	kindDocker daemonKind = "docker"
	kindPodman daemonKind = "podman"
)

// daemonPingTimeout bounds how long lading waits for a Docker or Podman
// daemon to answer before saying none does.
const daemonPingTimeout = 5 * time.Second

// ErrNoDaemon is wrapped by the errors returned when no Docker or Podman
// daemon answers at the address an output or a docker-container:// engine
// needs.
var ErrNoDaemon = errors.New("no container daemon answers")

// WithDockerHost sets the address of the Docker daemon lading talks to
// ("unix:///var/run/docker.sock", "tcp://host:2376"): the one that runs a
// docker-container:// engine, and the default of [DockerLoad] outputs.
// Without it, DOCKER_HOST is used, else Docker's default socket. TLS for a
// tcp:// address is read from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as
// Docker's CLI does. Docker CLI contexts are not read. It applies at
// Connect and With (there it covers that copy's outputs only).
func WithDockerHost(addr string) Option {
	return func(s *settings) {
		s.only("WithDockerHost", forBuilds, "it chooses the Docker daemon for docker-container:// engines and DockerLoad outputs")
		s.dockerHost = addr
	}
}

// daemonHost returns the address lading uses for kind: explicit if set,
// then (Docker) the WithDockerHost setting, then the environment, then
// the daemon's default socket.
func daemonHost(kind daemonKind, explicit, setting string) (addr, from string) {
	switch {
	case explicit != "":
		return explicit, "the output's At"
	case kind == kindDocker && setting != "":
		return setting, "engine.WithDockerHost"
	case kind == kindDocker && os.Getenv("DOCKER_HOST") != "":
		return os.Getenv("DOCKER_HOST"), "DOCKER_HOST"
	case kind == kindPodman && os.Getenv("CONTAINER_HOST") != "":
		return os.Getenv("CONTAINER_HOST"), "CONTAINER_HOST"
	case kind == kindPodman:
		return podmanDefaultHost(), "Podman's default socket"
	default:
		return dockerclient.DefaultDockerHost, "Docker's default socket"
	}
}

// podmanDefaultHost is where Podman's API service listens by default: the
// system socket for root, the user's socket under XDG_RUNTIME_DIR else.
func podmanDefaultHost() string {
	if os.Geteuid() == 0 {
		return "unix:///run/podman/podman.sock"
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = fmt.Sprintf("/run/user/%d", os.Geteuid())
	}
	return "unix://" + filepath.Join(dir, "podman", "podman.sock")
}

// daemonConn is a client of a Docker or Podman daemon that answered.
type daemonConn struct {
	kind daemonKind
	addr string
	from string // where the address came from, for errors
	c    *dockerclient.Client
}

// dialDaemon makes a client for the daemon at addr and checks that it
// answers, negotiating the API version (Docker 20.10 and Podman 4 speak
// 1.41, older than this client's newest).
func dialDaemon(ctx context.Context, kind daemonKind, addr, from string) (*daemonConn, error) {
	opts := []dockerclient.Opt{
		dockerclient.WithTLSClientConfigFromEnv(),
		dockerclient.WithHost(addr),
	}
	c, err := dockerclient.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("%s address %s (from %s): %w", kind, quote(addr), from, err)
	}
	pctx, cancel := context.WithTimeout(ctx, daemonPingTimeout)
	defer cancel()
	if _, err := c.Ping(pctx, dockerclient.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, noDaemonError(kind, addr, from, err)
	}
	return &daemonConn{kind: kind, addr: addr, from: from, c: c}, nil
}

// noDaemonError says that no daemon of kind answers at addr, and how to
// get one or point lading at the right one.
func noDaemonError(kind daemonKind, addr, from string, err error) error {
	var fix string
	switch kind {
	case kindPodman:
		fix = "start Podman's API service (`podman system service --time=0 " + addr + "`, or `systemctl --user enable --now podman.socket`), " +
			"or point lading at it with CONTAINER_HOST or the output's At"
	default:
		fix = "start dockerd, or point lading at the daemon with DOCKER_HOST or engine.WithDockerHost"
	}
	return fmt.Errorf("%w: %s at %s (from %s): %w; %s", ErrNoDaemon, kind, addr, from, bounded(err), fix)
}

// close releases the client's connections.
func (d *daemonConn) close() { d.c.Close() }
