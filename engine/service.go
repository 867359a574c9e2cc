package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Services run in gateway containers of the build's own session
// (BuildKit's NewContainer), on the engine host's network: each listens
// on a loopback address of its own (127.x.y.z, drawn from the run's id),
// which the bound steps find under the service's alias in their hosts
// file. See docs/services.md.

const (
	// defaultHealthTimeout is how long a service may take to get healthy.
	defaultHealthTimeout = 60 * time.Second
	// healthInterval is the pause between two health probes.
	healthInterval = 20 * time.Millisecond
	// serviceStopTimeout bounds stopping a service.
	serviceStopTimeout = 2 * time.Second
	// serviceLogLines is how many of a service's last log lines an error
	// shows.
	serviceLogLines = 15
)

// solveWithServices solves p; when its steps are bound to services, it
// solves them in stages (service_stages.go): each service is started
// before the first of its steps and stopped as soon as the last of them
// ends, however it ends, before the rest of the graph is solved.
func (r *run) solveWithServices(ctx context.Context, c gateway.Client, p *lllb.Program) (gateway.Reference, error) {
	if len(p.Services) == 0 {
		ref, err := r.solve(ctx, c, p)
		if err != nil {
			r.debugShell(ctx, c, err)
		} else {
			err = r.terminal(ctx, c, ref, p)
		}
		return ref, err
	}
	st := &stages{r: r, c: c, p: p}
	defer st.stopAll(ctx)
	if err := st.run(ctx); err != nil {
		return nil, err
	}
	ref, err := r.solve(ctx, c, p)
	if err != nil {
		r.debugShell(ctx, c, err)
		return nil, err
	}
	return ref, r.terminal(ctx, c, ref, p)
}

// service is one running service.
type service struct {
	spec    *lllb.ServiceRun
	c       gateway.Client
	ref     gateway.Reference // the service's filesystem
	ctr     gateway.Container
	proc    gateway.ContainerProcess
	probe   *prober      // see service_probe.go
	pending chan *prober // the prober being made, if any
	// noProber: the image cannot host a probe container (no cat).
	noProber bool
	// dial: lading shares the engine's network, so it can dial the
	// service's ports itself (service_dial.go).
	dial     bool
	released chan struct{} // closed when the container is released
	log      *tailBuffer
	done     chan struct{} // closed when the process exits
	err      error         // why it exited, once done is closed
	once     sync.Once
}

// startService builds the service's container, starts its process and
// waits until it is healthy. A service that started is returned even
// with an error, so that it is stopped.
func (r *run) startService(ctx context.Context, c gateway.Client, spec *lllb.ServiceRun) (*service, error) {
	s := &service{spec: spec, c: c, log: &tailBuffer{}, done: make(chan struct{}), dial: r.e.sharesNetwork()}
	var err error
	if s.ref, err = r.solve(ctx, c, spec.Program); err != nil {
		return nil, s.fail("building its container failed", err)
	}
	if len(spec.Check) > 0 || (len(spec.Ports) > 0 && !s.dials()) {
		s.prepareProber(ctx) // made while the service starts
	}
	if s.ctr, err = s.container(ctx, false); err != nil {
		s.dropProber(ctx)
		return nil, s.fail("creating its container failed", err)
	}
	s.proc, err = s.ctr.Start(ctx, gateway.StartRequest{
		Args: spec.Args, Env: spec.Env, Cwd: workdir(spec.Workdir), User: spec.User,
		Stdout: s.log, Stderr: s.log, RemoveMountStubsRecursive: true,
	})
	if err != nil {
		return s, s.fail(fmt.Sprintf("starting %q failed", strings.Join(spec.Args, " ")), err)
	}
	go func() {
		s.err = s.proc.Wait()
		close(s.done)
	}()
	return s, s.waitHealthy(ctx)
}

// waitHealthy probes the service until it is healthy, exits or runs out
// of time. The in-container probes run apart from the wait, so that a
// quicker look at the ports (service_dial.go) is not held up by one.
func (s *service) waitHealthy(ctx context.Context) error {
	timeout := s.spec.Timeout
	if timeout == 0 {
		timeout = defaultHealthTimeout
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	dialed := s.dialPorts(ctx)
	type probe struct {
		ok  bool
		err error
	}
	probes, quit := make(chan probe), make(chan struct{})
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if s.dials() {
			// The dials usually see the ports first; a probe container
			// is made only for a service slower than dialGrace (or an
			// engine whose network lading does not share after all).
			select {
			case <-time.After(dialGrace):
			case <-quit:
				return
			}
		}
		for {
			ok, err := s.healthy(pctx)
			select {
			case probes <- probe{ok, err}:
			case <-quit:
				return
			}
			if ok {
				return
			}
			select {
			case <-time.After(healthInterval):
			case <-quit:
				return
			}
		}
	})
	defer func() {
		cancel()
		close(quit)
		wg.Wait()
	}()
	var last error
	for {
		select {
		case p := <-probes:
			if p.ok {
				return nil
			}
			last = p.err
		case <-dialed:
			return nil
		case <-s.done:
			return s.fail("exited before it was healthy: "+exitReason(s.err), nil)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			why := "not healthy after " + timeout.String()
			if last != nil {
				why += " (last probe: " + last.Error() + ")"
			}
			return s.fail(why, nil)
		}
	}
}

// healthy runs one probe: the health check command, or a look for
// listening sockets on the service's ports.
func (s *service) healthy(ctx context.Context) (bool, error) {
	if len(s.spec.Check) > 0 {
		var out tailBuffer
		err := s.run(ctx, s.spec.Check, &out)
		if err != nil {
			return false, fmt.Errorf("%s: %w: %s", strings.Join(s.spec.Check, " "), err, strings.Join(out.lines(3), " | "))
		}
		return true, nil
	}
	if len(s.spec.Ports) == 0 {
		return true, nil
	}
	var out tailBuffer
	out.max = 1 << 20
	if err := s.run(ctx, []string{"cat", "/proc/net/tcp", "/proc/net/tcp6"}, &out); err != nil {
		return false, fmt.Errorf("reading the listening ports (cat /proc/net/tcp): %w", err)
	}
	open := listening(out.buf.String(), s.spec.Addr)
	for _, p := range s.spec.Ports {
		if !open[p] {
			return false, fmt.Errorf("port %d is not open on %s", p, s.spec.Addr)
		}
	}
	return true, nil
}

// container makes a container on the service's filesystem, on the
// engine host's network, where the service's alias names its address.
// A read-only one (for probes) is quicker to make: no writable layer.
func (s *service) container(ctx context.Context, readonly bool) (gateway.Container, error) {
	return s.c.NewContainer(ctx, gateway.NewContainerRequest{
		Mounts:     []gateway.Mount{{Dest: "/", Ref: s.ref, MountType: pb.MountType_BIND, Readonly: readonly}},
		ExtraHosts: []*pb.HostIP{{Host: s.spec.Alias, IP: s.spec.Addr}},
	})
}

// exited says whether the service's process has ended, and why.
func (s *service) exited() (bool, string) {
	select {
	case <-s.done:
		return true, exitReason(s.err)
	default:
		return false, ""
	}
}

// stop kills the service's process and waits until it has exited (its
// ports are closed then), within serviceStopTimeout, even when ctx is
// cancelled; its containers are released in the background
// ([service.wait] waits for that).
func (s *service) stop(ctx context.Context) {
	s.once.Do(func() {
		s.released = make(chan struct{})
		if s.ctr == nil {
			close(s.released)
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serviceStopTimeout)
		if s.proc != nil {
			_ = s.proc.Signal(sctx, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-sctx.Done():
			}
		}
		go func() {
			defer close(s.released)
			defer cancel()
			var wg sync.WaitGroup
			wg.Go(func() { s.dropProber(ctx) })
			_ = s.ctr.Release(sctx)
			wg.Wait()
		}()
	})
}

// wait stops the service and waits until its containers are released.
func (s *service) wait(ctx context.Context) {
	s.stop(ctx)
	<-s.released
}

// fail makes the service's error: its alias, Go line, reason and log.
func (s *service) fail(reason string, cause error) *ServiceError {
	if cause != nil && !isStepFailure(cause) {
		reason += ": " + cause.Error()
		cause = nil
	}
	return &ServiceError{Alias: s.spec.Alias, Location: s.spec.Location, Reason: reason, Log: s.log.lines(serviceLogLines), err: cause}
}

// isStepFailure says whether err is a bound step's own failure, which the
// service's error wraps.
func isStepFailure(err error) bool {
	_, _, ok := exitCode(err)
	return ok
}

// exitReason describes how a process ended.
func exitReason(err error) string {
	if err == nil {
		return "exit code 0"
	}
	return err.Error()
}

func workdir(wd string) string {
	if wd == "" {
		return "/"
	}
	return wd
}

// listening parses /proc/net/tcp and /proc/net/tcp6 and returns the ports
// listening on addr or on every address.
func listening(table, addr string) map[int]bool {
	want := map[string]bool{
		hexIPv4(addr):                      true,
		"00000000":                         true, // 0.0.0.0
		"00000000000000000000000000000000": true, // ::
		"0000000000000000FFFF0000" + hexIPv4(addr): true, // ::ffff:addr
	}
	open := map[int]bool{}
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != "0A" { // 0A: LISTEN
			continue
		}
		ip, port, ok := strings.Cut(f[1], ":")
		if !ok || !want[ip] {
			continue
		}
		if n, err := strconv.ParseUint(port, 16, 16); err == nil {
			open[int(n)] = true
		}
	}
	return open
}

// hexIPv4 writes a dotted IPv4 address the way /proc/net/tcp does: the
// four bytes in host (little-endian) order, in upper-case hex.
func hexIPv4(addr string) string {
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return "-"
	}
	var b strings.Builder
	for i := 3; i >= 0; i-- {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 || n > 255 {
			return "-"
		}
		fmt.Fprintf(&b, "%02X", n)
	}
	return b.String()
}

// tailBuffer keeps the last bytes a process wrote (64 KiB unless max
// says otherwise). Safe for concurrent use.
type tailBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped bool // the buffer starts in the middle of a line
}

// Write keeps p, dropping the oldest bytes beyond the limit.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.max
	if limit == 0 {
		limit = 64 << 10
	}
	t.buf.Write(p)
	if over := t.buf.Len() - limit; over > 0 {
		t.buf.Next(over)
		t.dropped = true
	}
	return len(p), nil
}

// Close does nothing: the buffer stays readable.
func (t *tailBuffer) Close() error { return nil }

// lines returns the last n non-empty lines.
func (t *tailBuffer) lines(n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	text := t.buf.String()
	if t.dropped {
		if _, rest, ok := strings.Cut(text, "\n"); ok {
			text = rest
		}
	}
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
