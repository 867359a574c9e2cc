package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/cli/cli/config"
	dockerctx "github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
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
// Without it, DOCKER_HOST is used, else the Docker CLI context in use
// (DOCKER_CONTEXT, else the Docker config's current context), else
// Docker's default socket, as Docker's CLI does. TLS for a tcp:// address
// is read from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, or from the
// context. It applies at Connect and With (there it covers that copy's
// outputs only).
func WithDockerHost(addr string) Option {
	return func(s *settings) {
		s.only("WithDockerHost", forBuilds, "it chooses the Docker daemon for docker-container:// engines and DockerLoad outputs")
		s.dockerHost = addr
	}
}

// daemonTarget is a daemon's address, where it came from (for errors)
// and, for a Docker CLI context, the client options the context gives
// (its TLS material, an ssh:// helper).
type daemonTarget struct {
	addr, from string
	opts       []dockerclient.Opt
}

// resolveDaemon returns the daemon lading uses for kind: explicit if set,
// then (Docker) the WithDockerHost setting, DOCKER_HOST, the Docker CLI
// context in use (DOCKER_CONTEXT, else the config's current context; the
// config directory is WithDockerConfig's, else DOCKER_CONFIG, else
// ~/.docker), else the daemon's default socket. contextName, when not
// empty, names the Docker context to use instead of all of these.
func resolveDaemon(kind daemonKind, explicit string, s *settings, contextName string) (daemonTarget, error) {
	switch {
	case contextName != "":
		return dockerContextTarget(s, contextName, "the address's context")
	case explicit != "":
		return daemonTarget{addr: explicit, from: "the output's At"}, nil
	case kind == kindDocker && s.dockerHost != "":
		return daemonTarget{addr: s.dockerHost, from: "engine.WithDockerHost"}, nil
	case kind == kindDocker && os.Getenv("DOCKER_HOST") != "":
		return daemonTarget{addr: os.Getenv("DOCKER_HOST"), from: "DOCKER_HOST"}, nil
	case kind == kindPodman && os.Getenv("CONTAINER_HOST") != "":
		return daemonTarget{addr: os.Getenv("CONTAINER_HOST"), from: "CONTAINER_HOST"}, nil
	case kind == kindPodman:
		return daemonTarget{addr: podmanDefaultHost(), from: "Podman's default socket"}, nil
	}
	name, how := os.Getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	if name == "" {
		cfg, err := config.Load(dockerConfigDir(s))
		if err == nil {
			name, how = cfg.CurrentContext, "the Docker config's current context"
		}
	}
	if name != "" && name != "default" {
		return dockerContextTarget(s, name, how)
	}
	return daemonTarget{addr: dockerclient.DefaultDockerHost, from: "Docker's default socket"}, nil
}

// dockerConfigDir is the Docker config directory: WithDockerConfig's,
// else DOCKER_CONFIG, else ~/.docker.
func dockerConfigDir(s *settings) string {
	if s.dockerConfig != "" {
		return s.dockerConfig
	}
	if dir := os.Getenv(config.EnvOverrideConfigDir); dir != "" {
		return dir
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker")
}

// dockerContextTarget reads the Docker endpoint of the Docker CLI context
// name from the context store, with Docker CLI's own packages.
func dockerContextTarget(s *settings, name, how string) (daemonTarget, error) {
	from := fmt.Sprintf("Docker context %s (%s)", quote(name), how)
	fail := func(err error) (daemonTarget, error) {
		return daemonTarget{}, fmt.Errorf("%s: %w; create it (docker context create), pick another (docker context use), or give the address with DOCKER_HOST or engine.WithDockerHost",
			from, bounded(err))
	}
	st := store.New(filepath.Join(dockerConfigDir(s), "contexts"), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter(dockerctx.DockerEndpoint, func() any { return &dockerctx.EndpointMeta{} })))
	md, err := st.GetMetadata(name)
	if err != nil {
		return fail(err)
	}
	meta, err := dockerctx.EndpointFromContext(md)
	if err != nil {
		return fail(err)
	}
	ep, err := dockerctx.WithTLSData(st, name, meta)
	if err != nil {
		return fail(err)
	}
	opts, err := ep.ClientOpts()
	if err != nil {
		return fail(err)
	}
	return daemonTarget{addr: meta.Host, from: from, opts: opts}, nil
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

// dialDaemon makes a client for the daemon t names and checks that it
// answers, negotiating the API version (Docker 20.10 and Podman 4 speak
// 1.41, older than this client's newest).
func dialDaemon(ctx context.Context, kind daemonKind, t daemonTarget) (*daemonConn, error) {
	opts := t.opts
	if opts == nil {
		opts = []dockerclient.Opt{dockerclient.WithTLSClientConfigFromEnv(), dockerclient.WithHost(t.addr)}
	}
	c, err := dockerclient.New(opts...)
	if err != nil {
		fix := "an address is unix:///var/run/docker.sock (a socket) or tcp://HOST:2376"
		if strings.HasPrefix(t.addr, "/") {
			fix = "did you mean unix://" + t.addr + "? " + fix
		}
		return nil, fmt.Errorf("%s address %s (from %s): %w; %s", kind, quote(t.addr), t.from, err, fix)
	}
	pctx, cancel := context.WithTimeout(ctx, daemonPingTimeout)
	defer cancel()
	if _, err := c.Ping(pctx, dockerclient.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, noDaemonError(kind, t.addr, t.from, err)
	}
	return &daemonConn{kind: kind, addr: t.addr, from: t.from, c: c}, nil
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
	if answersHTTP2(err) || speaksHTTP2First(addr) {
		// Go's HTTP/1 client quotes what it got: an HTTP/2 frame header
		// (a 24-bit length, then the type) is what buildkitd sends first.
		return fmt.Errorf("%w: %s at %s (from %s) answers HTTP/2 (gRPC), as a BuildKit engine does, not Docker's API; "+
			"BUILDKIT_HOST names the engine, DOCKER_HOST the Docker daemon (unix:///var/run/docker.sock): %s", ErrNoDaemon, kind, addr, from, fix)
	}
	return fmt.Errorf("%w: %s at %s (from %s): %w; %s", ErrNoDaemon, kind, addr, from, bounded(err), fix)
}

// speaksHTTP2First reports whether the server at addr (unix:// or tcp://)
// sends an HTTP/2 SETTINGS frame as soon as it is connected to, as a gRPC
// server such as buildkitd does, unasked; an HTTP/1 server sends nothing
// until it gets a request. Depending on which comes first, Go's HTTP/1
// client fails on that frame in one of two ways, so the frame is looked
// for directly.
func speaksHTTP2First(addr string) bool {
	network, address, ok := strings.Cut(addr, "://")
	if !ok || (network != "unix" && network != "tcp") {
		return false
	}
	conn, err := net.DialTimeout(network, address, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var head [9]byte // a frame header: 24-bit length, type, flags, stream
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return false
	}
	const settings = 0x4
	return head[3] == settings && head[5]|head[6]|head[7]|head[8] == 0
}

// answersHTTP2 reports a ping that got an HTTP/2 frame back where an
// HTTP/1 response was due.
func answersHTTP2(err error) bool {
	return err != nil && strings.Contains(err.Error(), `malformed HTTP response "\x00\x00`)
}

// close releases the client's connections.
func (d *daemonConn) close() { d.c.Close() }
