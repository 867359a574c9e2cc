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
	// Register BuildKit's connection helpers for these address schemes
	// (docker-container:// goes through Docker's API: connect_docker.go).
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
// use; several builds may run at once. Close it when done. Get one from
// [Connect]: the methods of a nil *Engine or of the zero Engine{} return
// an error wrapping [ErrNoEngine].
type Engine struct {
	c      *client.Client
	addr   string
	origin Origin
	s      settings
	fleet  *fleet // several engines behind this one (fleet.go); nil for one engine
}

// Connect returns an engine, trying in order: the address given with
// [WithAddress]; BUILDKIT_HOST; the local engine lading started earlier;
// and else (unless [WithoutAutoStart]) it starts the local engine. It says
// which it used on one line of its log output (stderr by default). When no
// engine can be reached the error wraps [ErrNoEngine].
func Connect(ctx context.Context, opts ...Option) (*Engine, error) {
	s, err := applyOptions(atConnect, opts)
	if err != nil {
		return nil, err
	}
	if _, err := progressMode(s.progress); err != nil {
		return nil, err
	}
	if eng, ok, err := connectFleet(ctx, &s); ok { // fleet.go: WithFleet, LADING_FLEET
		return eng, err
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
		c, err := dial(ctx, &s, addr, origin)
		if err != nil {
			return nil, err
		}
		return newEngine(c, addr, origin, s), nil
	}

	p := localEnginePaths()
	if err := restartIfReconfigured(ctx, &s, p); err != nil {
		return nil, noEngineError(p.address(), OriginLocal, err)
	}
	logMirrors(&s)
	if _, alive := readPID(p); alive {
		if c, err := dial(ctx, &s, p.address(), OriginLocal); err == nil {
			return newEngine(c, p.address(), OriginLocal, s), nil
		}
	}
	if !s.autoStart {
		return nil, noEngineError(p.address(), OriginLocal, errors.New("the local engine is not running and auto-start is off"))
	}
	if _, err := startLocal(ctx, &s); err != nil {
		if ctx.Err() != nil {
			return nil, wrapCanceled(ctx, err)
		}
		return nil, noEngineError(p.address(), OriginStarted, err)
	}
	c, err := dial(ctx, &s, p.address(), OriginStarted)
	if err != nil {
		return nil, err
	}
	return newEngine(c, p.address(), OriginStarted, s), nil
}

func newEngine(c *client.Client, addr string, origin Origin, s settings) *Engine {
	if s.log != nil {
		fmt.Fprintf(s.log, "lading: using engine %s (%s%s)\n", addr, origin, modeNote(origin, addr))
	}
	return &Engine{c: c, addr: addr, origin: origin, s: s}
}

// With returns a copy of the engine with build options applied to its
// later builds (progress, events, caches, platforms, registries,
// credentials…). The copy shares the connection; closing either closes
// both. A connection or local engine option (WithAddress, WithTLS,
// WithRegistryMirror, Silent…) has no effect on an engine already
// connected: every build of the copy then fails with an error naming the
// option and where it belongs. With on a nil *Engine returns nil.
func (e *Engine) With(opts ...Option) *Engine {
	if e == nil {
		return nil
	}
	c := *e
	c.s.mirrors = maps.Clone(e.s.mirrors)
	c.s.insecure = slices.Clone(e.s.insecure)
	c.s.cacheFrom = slices.Clone(e.s.cacheFrom)
	c.s.cacheTo = slices.Clone(e.s.cacheTo)
	c.s.at = atWith
	for _, o := range opts {
		if o == nil {
			if c.s.err == nil {
				c.s.err = errors.New("Engine.With: nil option")
			}
			continue
		}
		o(&c.s)
	}
	return &c
}

// usable reports why e cannot run anything: it is nil or the zero Engine
// (not made by Connect), or a With copy was given an option that has no
// effect there.
func (e *Engine) usable() error {
	if e == nil || e.c == nil {
		return errZeroEngine
	}
	return e.s.err
}

// errZeroEngine is returned by the methods of an Engine not made by Connect.
var errZeroEngine = fmt.Errorf("%w: this engine.Engine is nil or its zero value, which is connected to nothing; "+
	"get an engine with engine.Connect(ctx) and use the *Engine it returns", ErrNoEngine)

// Address returns the engine's address ("" for an Engine not made by
// Connect).
func (e *Engine) Address() string {
	if e == nil {
		return ""
	}
	return e.addr
}

// Origin says how Connect found the engine ("" for an Engine not made by
// Connect).
func (e *Engine) Origin() Origin {
	if e == nil {
		return ""
	}
	return e.origin
}

// Close closes the connection. It does not stop the engine. On a member
// of a fleet ([Engine.Members]) it does nothing: the fleet closes it.
func (e *Engine) Close() error {
	if e == nil || e.c == nil {
		return errZeroEngine
	}
	if e.fleet != nil {
		return e.fleet.close() // fleet.go
	}
	if e.s.fleet.routed {
		return nil // a fleet's member (Engine.Members): the fleet's Close closes it
	}
	forgetVersion(e.c) // capability.go
	return e.c.Close()
}

// dial connects to addr, found as origin says, and checks that a BuildKit
// daemon answers there.
func dial(ctx context.Context, s *settings, addr string, origin Origin) (*client.Client, error) {
	copts, err := clientOptions(s, addr)
	if err != nil {
		if origin == OriginEnv {
			return nil, fmt.Errorf("%w\n(the address is the value of BUILDKIT_HOST: fix BUILDKIT_HOST, or unset it to use the local engine)", err)
		}
		return nil, err
	}
	c, err := client.New(ctx, addr, copts...)
	if err != nil {
		return nil, noEngineError(addr, origin, err)
	}
	if err := probe(ctx, c); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, wrapCanceled(ctx, err)
		}
		return nil, noEngineError(addr, origin, err)
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
		return nil, fmt.Errorf("invalid engine address %s: want unix://, tcp://, docker-container://, kube-pod:// or ssh://", quote(addr))
	}
	var opts []client.ClientOpt
	switch u.Scheme {
	case "unix":
	case "tcp":
		if s.tls != nil {
			if *s.tls == (TLSConfig{}) {
				return nil, fmt.Errorf("engine.WithTLS for %s is empty: give the CA certificate and the client certificate and key (are the variables that should hold their paths unset?)", clip(addr, maxQuoted))
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
				"set up mutual TLS with engine.WithTLS, or pass engine.AllowInsecureTCP() if the network is trusted", clip(addr, maxQuoted))
		}
	case "docker-container":
		return dockerContainerOptions(s, u) // connect_docker.go: through Docker's API, never a docker CLI on PATH
	case "kube-pod", "ssh", "nerdctl-container", "podman-container":
	default:
		return nil, fmt.Errorf("unsupported engine address %s: want unix://, tcp://, docker-container://, kube-pod:// or ssh://", quote(addr))
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
