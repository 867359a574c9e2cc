package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/distribution/reference"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Route says where a fleet ran a build ([Summary.Route]).
type Route struct {
	// Key is the build's routing key ([WithFleetKey]).
	Key string
	// Engine is the address of the engine that ran the build.
	Engine string
	// MovedFrom is the address of the engine the build started on when
	// that engine went away during the build and the build ran again on
	// Engine; empty when it did not move.
	MovedFrom string
	// Why is what happened to MovedFrom, when set.
	Why string
}

// String is the route's line in a summary.
func (r Route) String() string {
	if r.MovedFrom != "" {
		return fmt.Sprintf("moved from engine %s to %s (key %s): %s", r.MovedFrom, r.Engine, quote(r.Key), firstLineOf(r.Why))
	}
	return fmt.Sprintf("ran on engine %s (key %s)", r.Engine, quote(r.Key))
}

// routes reports whether builds go through routed: on a fleet, or with a
// cache per routing key.
func (e *Engine) routes() bool {
	return !e.s.fleet.routed && (e.fleet != nil || e.fleetCache() != "")
}

// fleetCache is the repository of the caches per routing key: the
// option, else LADING_FLEET_CACHE.
func (e *Engine) fleetCache() string {
	if e.s.fleet.cache != "" {
		return e.s.fleet.cache
	}
	return os.Getenv("LADING_FLEET_CACHE")
}

// checkFleetCache refuses a cache repository that is not one: a scheme, a
// tag, spaces or capitals would make every key's cache reference invalid.
func (e *Engine) checkFleetCache(repo string) error {
	how := "engine.WithFleetCache"
	if e.s.fleet.cache == "" {
		how = "LADING_FLEET_CACHE"
	}
	named, err := reference.ParseNormalizedNamed(repo)
	if err == nil && !reference.IsNameOnly(named) {
		err = errors.New("it has a tag or digest; lading adds a tag per routing key")
	}
	if err != nil {
		return fmt.Errorf("%s %s is not a registry repository: %w; give one such as registry.example.com/team/lading-cache "+
			"(no scheme, no tag, lower case)", how, quote(repo), err)
	}
	return nil
}

// routed runs a build through the fleet, or with the key's own cache
// ([WithFleetCache]) on a single engine. It is build's first step for
// such an Engine; the Engine it calls build on is neither.
func (e *Engine) routed(ctx context.Context, req request) (*Result, error) {
	key := e.routeKey(req)
	base := *e
	if repo := e.fleetCache(); repo != "" {
		if err := e.checkFleetCache(repo); err != nil {
			return nil, err
		}
		caches, err := e.travelCaches()
		if err != nil {
			return nil, err
		}
		base.s.caches = append(slices.Clip(caches), keyCache(repo, key))
	}
	if e.fleet == nil {
		return base.onOne().build(ctx, req)
	}
	return e.fleet.build(ctx, &base, key, req)
}

// build runs req on the first healthy engine of the key's order and, when
// that engine goes away during the build, once more on the next one.
func (f *fleet) build(ctx context.Context, e *Engine, key string, req request) (*Result, error) {
	var (
		warnings []string
		from     *member
		lost     error
	)
	for _, m := range f.order(key) {
		if down := m.state(); down != nil {
			if w := m.unwarned(); w != nil {
				warnings = append(warnings, fmt.Sprintf("engine %s is unreachable, skipped: %v", m.addr, w))
			}
			continue
		}
		res, err := f.attempt(e.on(m), ctx, req)
		if err == nil {
			res.Summary.Route = &Route{Key: key, Engine: m.addr}
			if from != nil {
				res.Summary.Route.MovedFrom, res.Summary.Route.Why = from.addr, lost.Error()
			}
			e.fleetWarn(res, warnings)
			return res, nil
		}
		if from != nil || !engineLost(ctx, err) {
			if from != nil {
				return nil, fmt.Errorf("the build moved from engine %s, which went away, to %s, and failed there too: %w", from.addr, m.addr, err)
			}
			return nil, err
		}
		m.markDown(err)
		_ = m.unwarned() // the move's message says it
		from, lost = m, err
		e.fleetProgressf("warning: engine %s went away during the build; running it again on the next engine\n", m.addr)
	}
	if from != nil {
		return nil, fmt.Errorf("%w (no other engine of the fleet answers to run it again)", lost)
	}
	var why []string
	for _, m := range f.members {
		why = append(why, fmt.Sprintf("  %s: %v", m.addr, m.state()))
	}
	return nil, fmt.Errorf("%w: none of the fleet's %d engines (%s) answers:\n%s\nstart them or fix the addresses",
		ErrNoEngine, len(f.members), f.origin, strings.Join(why, "\n"))
}

// engineLost reports whether a build failed because its engine went away
// (the error wraps ErrNoEngine, see Engine.classify), not because a step
// failed or the caller gave up.
func engineLost(ctx context.Context, err error) bool {
	var xe *ExecError
	return ctx.Err() == nil && errors.Is(err, ErrNoEngine) && !errors.As(err, &xe)
}

// routeKey is the build's routing key: the option, else the Go file:line
// that made the value.
func (e *Engine) routeKey(req request) string {
	if e.s.fleet.key != "" {
		return e.s.fleet.key
	}
	if req.value == nil {
		return ""
	}
	m, err := lllb.ModelOf(req.value)
	if err != nil {
		return ""
	}
	var root *lllb.Node
	switch v := m.(type) {
	case *lllb.Container:
		root = v.Root
	case *lllb.Directory:
		root = v.Root
	case *lllb.File:
		root = v.Root
	}
	if root == nil {
		return ""
	}
	return root.Loc.String()
}

// fleetWarn adds the fleet's warnings to a build's summary and prints
// them on its progress output, as run.warnf does.
func (e *Engine) fleetWarn(res *Result, warnings []string) {
	for _, w := range warnings {
		res.Summary.Warnings = append(res.Summary.Warnings, w)
		e.fleetProgressf("warning: %s\n", w)
	}
}

// fleetProgressf prints a line on the build's progress output, unless
// quiet.
func (e *Engine) fleetProgressf(format string, args ...any) {
	if mode, _ := progressMode(e.s.progress); mode != ProgressQuiet && e.s.progressOut != nil {
		fmt.Fprintf(e.s.progressOut, format, args...)
	}
}

// firstLineOf is the first line of s.
func firstLineOf(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
