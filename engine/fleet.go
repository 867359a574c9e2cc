package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
)

// OriginFleet means the engines in LADING_FLEET (see [WithFleet]).
const OriginFleet Origin = "LADING_FLEET"

// Health checks of a fleet's engines: each engine must answer Info and
// list a worker within healthTimeout; an engine found unreachable is
// checked again, in the background, when a build would have gone to it
// and recheckAfter has passed since its last check.
const (
	healthTimeout = 2 * time.Second
	recheckAfter  = 10 * time.Second
)

// fleet is the pool of engines behind an Engine made by Connect with
// [WithFleet] or LADING_FLEET. It is shared by the Engine's With copies.
type fleet struct {
	members []*member
	seeds   []uint64 // members' seeds, in order, for rank
	origin  Origin
	// attempt runs a build on one member's Engine: Engine.build, or a
	// stand-in in tests of what the fleet does with each outcome.
	attempt func(on *Engine, ctx context.Context, req request) (*Result, error)
}

// member is one engine of a fleet and what is known of its health.
type member struct {
	addr string
	c    *client.Client

	mu        sync.Mutex
	down      error     // why it was found unreachable; nil when healthy
	checked   time.Time // last health check
	checking  bool      // a background check runs
	warnedFor error     // the down error already reported in a build's warnings
}

// connectFleet is Connect for a fleet: when the options or LADING_FLEET
// name several engines, it dials and checks them all, and returns an
// Engine that routes every build to one of them (ok true). Otherwise it
// returns ok false and Connect goes on with one engine.
func connectFleet(ctx context.Context, s *settings) (_ *Engine, ok bool, _ error) {
	addrs, origin := s.fleet.addrs, OriginOption
	switch {
	case len(addrs) > 0 && s.address != "":
		return nil, true, errors.New("engine.WithAddress and engine.WithFleet were both given: pass one engine's address or the fleet's addresses, not both")
	case s.fleet.set && len(addrs) == 0:
		return nil, true, errors.New("engine.WithFleet was given no address: pass the addresses of the fleet's engines (unix://, tcp://, kube-pod://…)")
	case len(addrs) == 0 && s.address == "" && os.Getenv("LADING_FLEET") != "":
		addrs, origin = splitList(os.Getenv("LADING_FLEET")), OriginFleet
		if len(addrs) == 0 {
			return nil, true, errors.New("LADING_FLEET holds no address: set it to a comma-separated list of engine addresses, or unset it")
		}
	}
	if len(addrs) == 0 {
		single := s.address
		if single == "" {
			single = os.Getenv("BUILDKIT_HOST")
		}
		if strings.HasPrefix(single, kubeScheme+"://") {
			return nil, true, errKubeInAddress
		}
		return nil, false, nil
	}
	f, err := dialFleet(ctx, s, addrs, origin)
	if err != nil {
		return nil, true, err
	}
	primary := f.healthy()[0]
	if s.log != nil {
		n := fmt.Sprintf("%d engines", len(f.members))
		if len(f.members) == 1 {
			n = "1 engine"
		}
		fmt.Fprintf(s.log, "lading: using a fleet of %s (%s): %s\n", n, origin, strings.Join(f.addrs(), ", "))
		for _, m := range f.members {
			if m.down != nil {
				fmt.Fprintf(s.log, "lading: warning: engine %s is unreachable, skipped: %v\n", m.addr, m.down)
			}
		}
	}
	return &Engine{c: primary.c, addr: strings.Join(f.addrs(), ","), origin: origin, s: *s, fleet: f}, true, nil
}

// dialFleet makes a client for every address and checks them all at once.
// It fails when an address is invalid or repeated, or when no engine
// answers.
func dialFleet(ctx context.Context, s *settings, addrs []string, origin Origin) (*fleet, error) {
	addrs, err := discover(ctx, addrs, s.log) // fleet_discovery.go
	if err != nil {
		return nil, fmt.Errorf("the fleet (%s): %w", origin, err)
	}
	f := &fleet{origin: origin, attempt: (*Engine).attempt}
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[sameEngine(a)] {
			f.close()
			return nil, fmt.Errorf("the fleet (%s) lists the engine %s twice: each engine once", origin, quote(a))
		}
		seen[sameEngine(a)] = true
		copts, err := clientOptions(s, a)
		if err == nil {
			var c *client.Client
			if c, err = client.New(ctx, a, copts...); err == nil {
				f.members = append(f.members, &member{addr: a, c: c})
				f.seeds = append(f.seeds, seedOf(a))
				continue
			}
		}
		f.close()
		return nil, fmt.Errorf("the fleet (%s): %w", origin, err)
	}
	var wg sync.WaitGroup
	for _, m := range f.members {
		wg.Go(func() { m.check(ctx) })
	}
	wg.Wait()
	if len(f.healthy()) == 0 {
		var why []string
		for _, m := range f.members {
			why = append(why, fmt.Sprintf("  %s: %v", m.addr, m.down))
		}
		f.close()
		if ctx.Err() != nil {
			return nil, wrapCanceled(ctx, ctx.Err())
		}
		return nil, fmt.Errorf("%w: none of the fleet's %d engines (%s) answers:\n%s\nstart them or fix the addresses",
			ErrNoEngine, len(addrs), origin, strings.Join(why, "\n"))
	}
	return f, nil
}

// sameEngine is an address in a form that two spellings of one engine
// share: a unix:// socket's cleaned path, a tcp:// host in lower case,
// without a trailing slash.
func sameEngine(addr string) string {
	scheme, rest, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return addr
	case scheme == "unix":
		return "unix://" + filepath.Clean(rest)
	case scheme == "tcp":
		return "tcp://" + strings.ToLower(strings.TrimSuffix(rest, "/"))
	}
	return addr
}

// check asks the engine for its info and workers, within healthTimeout,
// and records the outcome.
func (m *member) check(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	err := func() error {
		if _, err := m.c.Info(cctx); err != nil {
			return simplifyDialError(err)
		}
		ws, err := m.c.ListWorkers(cctx)
		if err != nil {
			return simplifyDialError(err)
		}
		if len(ws) == 0 {
			return errors.New("the engine has no worker")
		}
		return nil
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down, m.checked = err, time.Now()
	if err == nil {
		m.warnedFor = nil
	}
}

// state returns why the engine is down (nil when up). A down engine whose
// last check is older than recheckAfter is checked again in the
// background; until that check says otherwise it stays down.
func (m *member) state() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down != nil && !m.checking && time.Since(m.checked) > recheckAfter {
		m.checking = true
		go func() {
			m.check(context.Background())
			m.mu.Lock()
			m.checking = false
			m.mu.Unlock()
		}()
	}
	return m.down
}

// markDown records that the engine went away.
func (m *member) markDown(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down, m.checked = err, time.Now()
}

// unwarned returns the engine's down error the first time it is asked
// for each fall, and nil after that: one warning per engine that is down.
func (m *member) unwarned() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down == nil || m.warnedFor == m.down { //nolint:errorlint // the same fall, by identity
		return nil
	}
	m.warnedFor = m.down
	return m.down
}

// healthy lists the members that are up, in order.
func (f *fleet) healthy() []*member {
	var up []*member
	for _, m := range f.members {
		m.mu.Lock()
		if m.down == nil {
			up = append(up, m)
		}
		m.mu.Unlock()
	}
	return up
}

// addrs lists the members' addresses, in order.
func (f *fleet) addrs() []string {
	out := make([]string, len(f.members))
	for i, m := range f.members {
		out[i] = m.addr
	}
	return out
}

// order returns the members in the key's order of preference.
func (f *fleet) order(key string) []*member {
	idx := rank(key, f.seeds)
	out := make([]*member, len(idx))
	for i, j := range idx {
		out[i] = f.members[j]
	}
	return out
}

// close closes every member's connection.
func (f *fleet) close() error {
	var errs []error
	for _, m := range f.members {
		forgetVersion(m.c) // capability.go
		errs = append(errs, m.c.Close())
	}
	return errors.Join(errs...)
}

// Members returns one Engine per engine of the fleet, in the order they
// were given, for calls that address one engine ([Engine.Status],
// [Engine.DiskUsage], [Engine.Prune]…); on an Engine that is not a fleet
// it returns the Engine itself. The members share the fleet's
// connections: closing the fleet's Engine closes them, and closing a
// member does nothing.
func (e *Engine) Members() []*Engine {
	if e == nil {
		return nil
	}
	if e.fleet == nil {
		return []*Engine{e}
	}
	out := make([]*Engine, len(e.fleet.members))
	for i, m := range e.fleet.members {
		out[i] = e.on(m)
	}
	return out
}

// on returns a copy of the fleet's Engine that runs on one member.
func (e *Engine) on(m *member) *Engine {
	c := *e
	c.c, c.addr, c.origin, c.fleet = m.c, m.addr, e.fleet.origin, nil
	return c.onOne()
}

// onOne marks an Engine that is not a fleet as routed already: its
// builds go straight to its engine, with the caches routed gave it.
func (e *Engine) onOne() *Engine {
	e.s.fleet.cache, e.s.fleet.routed = "", true
	return e
}

// RouteFor returns the address of the engine that a build with the given
// key ([WithFleetKey]) goes to now: the first engine of the key's order
// that is not known to be down. On an Engine that is not a fleet it is
// [Engine.Address]; it is "" when no engine of the fleet answers.
func (e *Engine) RouteFor(key string) string {
	if e == nil || e.fleet == nil {
		return e.Address()
	}
	for _, m := range e.fleet.order(key) {
		if m.state() == nil {
			return m.addr
		}
	}
	return ""
}

// attempt is one try of a routed build on one engine.
func (e *Engine) attempt(ctx context.Context, req request) (*Result, error) { return e.build(ctx, req) }
