package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	// Register BuildKit's connection helpers for these address schemes.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// Origin says how [Connect] found the engine.
type Origin string

const (
	// OriginOption means the address given with [WithAddress].
	OriginOption Origin = "option"
	// OriginEnv means the address in BUILDKIT_HOST.
	OriginEnv Origin = "BUILDKIT_HOST"
	// OriginLocal means the local engine lading started earlier.
	OriginLocal Origin = "local engine"
	// OriginStarted means the local engine, started by this Connect.
	OriginStarted Origin = "local engine, started"
)

// probeTimeout bounds how long Connect waits for an engine to answer, so
// that ErrNoEngine comes back within five seconds; a refused connection is
// retried for retryWindow only, since a daemon that is starting answers
// within a fraction of a second.
const (
	probeTimeout = 3 * time.Second
	retryWindow  = 500 * time.Millisecond
)

// Engine is a connection to a BuildKit daemon. It is safe for concurrent
// use; several builds may run at once. Close it when done.
type Engine struct {
	c      *client.Client
	addr   string
	origin Origin
	s      settings
}

// Connect returns an engine, trying in order: the address given with
// [WithAddress]; BUILDKIT_HOST; the local engine lading started earlier;
// and else (unless [WithoutAutoStart]) it starts the local engine. It says
// which it used on one line of its log output (stderr by default). When no
// engine can be reached the error wraps [ErrNoEngine].
func Connect(ctx context.Context, opts ...Option) (*Engine, error) {
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	if s.err != nil {
		return nil, s.err
	}
	if _, err := progressMode(s.progress); err != nil {
		return nil, err
	}
	var (
		addr   string
		origin Origin
	)
	switch {
	case s.address != "":
		addr, origin = s.address, OriginOption
	case os.Getenv("BUILDKIT_HOST") != "":
		addr, origin = os.Getenv("BUILDKIT_HOST"), OriginEnv
	}
	if addr != "" {
		c, err := dial(ctx, &s, addr)
		if err != nil {
			return nil, err
		}
		return newEngine(c, addr, origin, s), nil
	}

	p := localEnginePaths()
	if err := restartIfReconfigured(ctx, &s, p); err != nil {
		return nil, noEngineError(p.address(), err)
	}
	logMirrors(&s)
	if _, alive := readPID(p); alive {
		if c, err := dial(ctx, &s, p.address()); err == nil {
			return newEngine(c, p.address(), OriginLocal, s), nil
		}
	}
	if !s.autoStart {
		return nil, noEngineError(p.address(), errors.New("the local engine is not running and auto-start is off"))
	}
	if _, err := startLocal(ctx, &s); err != nil {
		if ctx.Err() != nil {
			return nil, wrapCanceled(ctx, err)
		}
		return nil, noEngineError(p.address(), err)
	}
	c, err := dial(ctx, &s, p.address())
	if err != nil {
		return nil, err
	}
	return newEngine(c, p.address(), OriginStarted, s), nil
}

func newEngine(c *client.Client, addr string, origin Origin, s settings) *Engine {
	if s.log != nil {
		fmt.Fprintf(s.log, "lading: using engine %s (%s)\n", addr, origin)
	}
	return &Engine{c: c, addr: addr, origin: origin, s: s}
}

// With returns a copy of the engine with opts applied to its later builds
// (progress, events, caches, platforms, registries, credentials…). The copy
// shares the connection; closing either closes both. Options about finding
// the engine have no effect.
func (e *Engine) With(opts ...Option) *Engine {
	c := *e
	c.s.mirrors = maps.Clone(e.s.mirrors)
	c.s.insecure = slices.Clone(e.s.insecure)
	c.s.cacheFrom = slices.Clone(e.s.cacheFrom)
	c.s.cacheTo = slices.Clone(e.s.cacheTo)
	for _, o := range opts {
		o(&c.s)
	}
	return &c
}

// Address returns the engine's address.
func (e *Engine) Address() string { return e.addr }

// Origin says how Connect found the engine.
func (e *Engine) Origin() Origin { return e.origin }

// Close closes the connection. It does not stop the engine.
func (e *Engine) Close() error { return e.c.Close() }

// dial connects to addr and checks that a BuildKit daemon answers there.
func dial(ctx context.Context, s *settings, addr string) (*client.Client, error) {
	copts, err := clientOptions(s, addr)
	if err != nil {
		return nil, err
	}
	c, err := client.New(ctx, addr, copts...)
	if err != nil {
		return nil, noEngineError(addr, err)
	}
	if err := probe(ctx, c); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, wrapCanceled(ctx, err)
		}
		return nil, noEngineError(addr, err)
	}
	return c, nil
}

// probe checks that the daemon answers an Info call, waiting at most
// probeTimeout in all.
func probe(ctx context.Context, c *client.Client) error {
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	for {
		_, err := c.Info(pctx)
		if err == nil {
			return nil
		}
		if pctx.Err() != nil {
			return fmt.Errorf("no answer within %s: %w", probeTimeout, simplifyDialError(err))
		}
		if time.Since(start) > retryWindow {
			return simplifyDialError(err)
		}
		select {
		case <-pctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// simplifyDialError trims gRPC's long transport messages down to the cause.
func simplifyDialError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "connection error: desc = "); i >= 0 {
		return errors.New(strings.Trim(msg[i+len("connection error: desc = "):], `"`))
	}
	return err
}

// clientOptions validates addr and returns the client options for it.
func clientOptions(s *settings, addr string) ([]client.ClientOpt, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("invalid engine address %q: want unix://, tcp://, docker-container://, kube-pod:// or ssh://", addr)
	}
	var opts []client.ClientOpt
	switch u.Scheme {
	case "unix":
	case "tcp":
		if s.tls != nil {
			if *s.tls == (TLSConfig{}) {
				return nil, fmt.Errorf("engine.WithTLS for %s is empty: give the CA certificate and the client certificate and key (are the variables that should hold their paths unset?)", addr)
			}
			if s.tls.CACert != "" || s.tls.ServerName != "" {
				opts = append(opts, client.WithServerConfig(s.tls.ServerName, s.tls.CACert))
			}
			if s.tls.Cert != "" || s.tls.Key != "" {
				opts = append(opts, client.WithCredentials(s.tls.Cert, s.tls.Key))
			}
			break
		}
		if !s.allowInsecureTCP && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("refusing plaintext %s: the host is not loopback, so anyone on the network could use the engine; "+
				"set up mutual TLS with engine.WithTLS, or pass engine.AllowInsecureTCP() if the network is trusted", addr)
		}
	case "docker-container", "kube-pod", "ssh", "nerdctl-container", "podman-container":
	default:
		return nil, fmt.Errorf("unsupported engine address %q: want unix://, tcp://, docker-container://, kube-pod:// or ssh://", addr)
	}
	return opts, nil
}

// isLoopback reports whether host names the loopback interface, without
// resolving names other than "localhost".
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// restartIfReconfigured stops a running local engine that lacks a
// registry mirror asked for, so that the next start applies it. Mirrors it
// already has, and settings beyond the ones asked for, leave it running; a
// plain-HTTP registry alone needs no restart, since pushes name it per
// build.
func restartIfReconfigured(ctx context.Context, s *settings, p localPaths) error {
	if len(s.mirrors) == 0 {
		return nil
	}
	sections := registrySections(s)
	if _, alive := readPID(p); !alive {
		return nil
	}
	current, err := os.ReadFile(p.config)
	if err == nil && !slices.ContainsFunc(sections, func(sec string) bool { return !strings.Contains(string(current), sec) }) {
		return nil
	}
	if s.log != nil {
		fmt.Fprintln(s.log, "lading: restarting the local engine to apply its registry settings")
	}
	return StopLocal(ctx)
}

// logMirrors says which registries the local engine reaches through a
// mirror.
func logMirrors(s *settings) {
	if s.log == nil {
		return
	}
	for _, r := range slices.Sorted(maps.Keys(s.mirrors)) {
		fmt.Fprintf(s.log, "lading: the local engine pulls %s images through the mirror %s\n", r, strings.Join(s.mirrors[r], ", "))
	}
}
