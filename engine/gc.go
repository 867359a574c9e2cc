package engine

import (
	"context"
	"time"

	"github.com/moby/buildkit/client"
)

// keepWithinBudget brings the local engine's build cache back under its
// disk budget after a build, the way its gc policies would: step results
// and sources first, least recently used first, then cache volumes.
// BuildKit runs those policies itself at most once a minute, so without
// this a burst of builds could overshoot the budget by a minute's writes.
// Only engines lading started have a known budget; others are left to
// their own gc. Errors are dropped: a full cache never fails a build.
func (e *Engine) keepWithinBudget(ctx context.Context) {
	if e.origin != OriginLocal && e.origin != OriginStarted {
		return
	}
	budget := configuredBudget(localEnginePaths().config)
	if budget <= 0 {
		return
	}
	// The build's own context may be cancelled; the sweep is short and
	// must not leave the cache over budget.
	ctx = context.WithoutCancel(ctx)
	// Step results first. The build's own are released a moment after it
	// returns: while some are still held, prune again shortly rather than
	// reach for a volume.
	deadline := time.Now().Add(sweepWait)
	for {
		if over, _, err := e.overBudget(ctx, budget); err != nil || !over {
			return
		}
		if err := e.prune(ctx, budget, []string{"type!=" + recordCacheMount}); err != nil {
			return
		}
		over, held, err := e.overBudget(ctx, budget)
		if err != nil || !over {
			return
		}
		if !held {
			break
		}
		if time.Now().After(deadline) {
			// Still held: BuildKit's gc, whose policies drop them
			// before any volume, finishes the job once they are free.
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = e.prune(ctx, budget, nil) // then cache volumes, least recently used first
}

// sweepWait bounds how long the sweep waits for the build's own step
// results to be released.
const sweepWait = 2 * time.Second

// overBudget reports whether the engine's cache is over budget, and
// whether step results (not cache volumes) are still in use.
func (e *Engine) overBudget(ctx context.Context, budget int64) (over, held bool, err error) {
	du, err := e.c.DiskUsage(ctx)
	if err != nil {
		return false, false, err
	}
	var total int64
	for _, r := range du {
		if !r.Shared {
			total += r.Size
		}
		held = held || (r.InUse && string(r.RecordType) != recordCacheMount)
	}
	return total > budget, held, nil
}

// prune asks the engine to keep at most budget bytes of the records the
// filter selects (all, when it is nil).
func (e *Engine) prune(ctx context.Context, budget int64, filter []string) error {
	opts := []client.PruneOption{client.WithKeepOpt(0, 0, budget, 0)}
	if filter != nil {
		opts = append(opts, client.WithFilter(filter))
	}
	ch := make(chan client.UsageInfo)
	go func() {
		for range ch { //nolint:revive // drain what the prune reports
		}
	}()
	err := e.c.Prune(ctx, ch, opts...)
	close(ch)
	return err
}
