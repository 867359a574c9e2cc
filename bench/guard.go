package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// The guard metric: what the build-time guards cost on a fully cached
// build of a small image from a registry base — a source policy (every
// source asked about, through BuildKit's policy session), a pinned lock
// and lint before solving — against the same build without them, on one
// engine, interleaved.

const guardTarget = 1.25

func guardImage() *sdk.Container {
	return sdk.From("debian:bookworm-slim").
		WithNewFile("/etc/motd", "guarded\n").
		WithUser("10001")
}

func runGuard(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("guard-cached", Seconds, Ratio, guardTarget)}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
	if err != nil {
		return failed(rows, err)
	}
	defer eng.Close()
	f, err := eng.Lock(ctx, guardImage())
	if err != nil {
		return failed(rows, err)
	}
	path := filepath.Join(c.work, "guard.lock")
	if err := f.Write(path); err != nil {
		return failed(rows, err)
	}
	var asked atomic.Int64
	guarded := eng.With(
		engine.WithSourcePolicy(func(engine.Source) engine.Decision { asked.Add(1); return engine.Allow() }),
		engine.WithLock(path, lock.Pinned),
		engine.WithLint(engine.LintError, lint.WithLock(f)))
	build := func(e *engine.Engine) func(int) (float64, error) {
		return func(int) (float64, error) {
			return timed(func() error { _, err := e.Build(ctx, guardImage()); return err })
		}
	}
	// Warm-up: both cached.
	for _, e := range []*engine.Engine{eng, guarded} {
		if _, err := build(e)(0); err != nil {
			return failed(rows, err)
		}
	}
	if asked.Load() == 0 {
		return failed(rows, fmt.Errorf("the source policy was never asked"))
	}
	// A cached build takes a tenth of a second: three times the runs, for
	// a steadier median on a loaded machine.
	runs := max(3*c.runs, 9)
	p, err := interleave(runs, build(guarded), build(eng))
	if err != nil {
		return failed(rows, err)
	}
	rows[0] = p.row("guard-cached", Seconds, Ratio, guardTarget)
	rows[0].Note = fmt.Sprintf("lading column: a cached build with a source policy, a pinned lock and lint; peer column: the same build without them (also lading); guarded %s, plain %s",
		spread(p.a, Seconds), spread(p.b, Seconds))
	return rows
}
