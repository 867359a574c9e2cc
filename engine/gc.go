package engine

import (
	"context"

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
	for _, filter := range [][]string{{"type!=" + recordCacheMount}, nil} {
		du, err := e.c.DiskUsage(ctx)
		if err != nil {
			return
		}
		var total int64
		for _, r := range du {
			if !r.Shared {
				total += r.Size
			}
		}
		if total <= budget {
			return
		}
		opts := []client.PruneOption{client.WithKeepOpt(0, 0, budget, 0)}
		if filter != nil {
			opts = append(opts, client.WithFilter(filter))
		}
		ch := make(chan client.UsageInfo)
		go func() {
			for range ch { //nolint:revive // drain what the prune reports
			}
		}()
		err = e.c.Prune(ctx, ch, opts...)
		close(ch)
		if err != nil {
			return
		}
	}
}
