package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// The fleet-route metric: what routing through a fleet adds to a build.
// The fleet is the benchmark's engine and two addresses where no engine
// answers (skipped by the health check, as a fleet with engines down
// would).
//
//   - fleet-route (the target): the routing path of one build — the key,
//     the rendezvous order, the health state, the copy of the engine and
//     the hand-over to the chosen engine — timed on builds that stop in
//     their plan phase (a step with no command), through the fleet minus
//     direct, so that the daemon's time, tens of milliseconds that vary
//     by more than the routing costs, is not in it.
//   - fleet-route-e2e (information): the same difference on fully cached
//     builds that reach the daemon, pairs run in alternating order; on a
//     loaded machine its spread is far wider than the routing's cost.
//   - fleet-route-decision (information): Engine.RouteFor alone.

const fleetRouteTarget = 0.005

func runFleetRoute(ctx context.Context, c *config) []Row {
	rows := []Row{
		newRow("fleet-route", Seconds, Absolute, fleetRouteTarget),
		newRow("fleet-route-e2e", Seconds, Info, 0),
		newRow("fleet-route-decision", Seconds, Info, 0),
	}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	dead := filepath.Join(c.work, "fleet")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		return failed(rows, err)
	}
	quiet := []engine.Option{engine.Silent(), engine.WithProgress(engine.ProgressQuiet), engine.WithoutExplanations()}
	direct, err := engine.Connect(ctx, append(quiet, engine.WithAddress(c.addr))...)
	if err != nil {
		return failed(rows, err)
	}
	defer direct.Close()
	fleet, err := engine.Connect(ctx, append(quiet, engine.WithFleet(c.addr, "unix://"+dead+"/b.sock", "unix://"+dead+"/c.sock"))...)
	if err != nil {
		return failed(rows, err)
	}
	defer fleet.Close()

	// The routing path alone.
	invalid := sdk.From("debian:bookworm-slim").WithExec(nil)
	planOnly := func(e *engine.Engine) func(int) (float64, error) {
		return func(int) (float64, error) {
			start := time.Now()
			if _, err := e.Build(ctx, invalid); err == nil {
				return 0, errors.New("a step with no command built")
			}
			return time.Since(start).Seconds(), nil
		}
	}
	const planRuns = 2000
	pp, err := balanced(planRuns, planOnly(fleet), planOnly(direct))
	if err != nil {
		return failed(rows, err)
	}
	rows[0] = Row{Name: "fleet-route", Unit: Seconds, Lading: median(differences(pp)), Peer: math.NaN(), Check: Absolute, Target: fleetRouteTarget}
	rows[0].Note = fmt.Sprintf("the routing path of a build: median of %d paired differences, a build that stops in its plan phase through a fleet of three (two down) minus direct; "+
		"through the fleet %.1f µs, direct %.1f µs (medians)", planRuns, 1e6*median(pp.a), 1e6*median(pp.b))

	// End to end, on cached builds.
	img := sdk.From("debian:bookworm-slim").WithNewFile("/etc/fleet", "routed\n")
	build := func(e *engine.Engine) func(int) (float64, error) {
		return func(int) (float64, error) {
			return timed(func() error { _, err := e.Build(ctx, img); return err })
		}
	}
	for _, e := range []*engine.Engine{direct, fleet} { // warm-up: both cached
		if _, err := build(e)(0); err != nil {
			return failed(rows, err)
		}
	}
	runs := max(3*c.runs, 9)
	p, err := balanced(runs, build(fleet), build(direct))
	if err != nil {
		return failed(rows, err)
	}
	rows[1] = Row{Name: "fleet-route-e2e", Unit: Seconds, Lading: median(differences(p)), Peer: math.NaN(), Check: Info}
	rows[1].Note = fmt.Sprintf("median of %d paired differences of cached builds, fleet minus direct: through the fleet %.1f ms, direct %.1f ms (medians; %s / %s)",
		runs, 1000*median(p.a), 1000*median(p.b), spread(p.a, Seconds), spread(p.b, Seconds))

	const keys = 100000
	start := time.Now()
	for i := range keys {
		if fleet.RouteFor(fmt.Sprint("pipeline/target-", i)) == "" {
			return failed(rows, errors.New("no engine for a key"))
		}
	}
	per := time.Since(start).Seconds() / keys
	rows[2] = Row{Name: "fleet-route-decision", Unit: Seconds, Lading: per, Peer: math.NaN(), Check: Info}
	rows[2].Note = fmt.Sprintf("Engine.RouteFor over %d keys on a fleet of three: %.2f µs per decision", keys, per*1e6)
	return rows
}

// differences returns a[i] − b[i] for each pair.
func differences(p pair) []float64 {
	out := make([]float64, min(len(p.a), len(p.b)))
	for i := range out {
		out[i] = p.a[i] - p.b[i]
	}
	return out
}

// balanced is interleave with the order of each pair alternating (A B,
// B A, …), so that whatever favours the first or the second build of a
// pair cancels out of the pairs' differences.
func balanced(runs int, a, b func(i int) (float64, error)) (pair, error) {
	var p pair
	for i := range runs {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		x, err := first(i)
		if err != nil {
			return p, err
		}
		y, err := second(i)
		if err != nil {
			return p, err
		}
		if i%2 == 1 {
			x, y = y, x
		}
		p.a, p.b = append(p.a, x), append(p.b, y)
	}
	return p, nil
}
