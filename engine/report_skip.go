package engine

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// reportSkipped reports a build that [WithSkipUnchanged] skipped, as the
// run report and the trace report every other build: the page says it was
// skipped and why, which build it is unchanged from, the digest it stands
// for and the steps it did not run; the trace has its build span, marked
// skipped. Problems are warnings in res.Summary.Warnings, as for any build.
func (r *run) reportSkipped(ctx context.Context, start time.Time, res *Result, ex *explainer) {
	sum := res.Summary
	if rf := r.e.s.reportFileFor(); rf != nil {
		title := fmt.Sprintf("build %d", reportBuilds.Add(1))
		if n := len(ex.cur.Steps); n > 0 {
			title += ": " + ex.cur.Steps[n-1].Name
		}
		b := newReportBuild(title, r.e.addr, start, sum, "", nil, r.scrub)
		b.Skipped, b.Digest, b.Since = sum.Skipped, res.Digest, ex.prev.Time
		for _, s := range ex.cur.Steps {
			b.Steps = append(b.Steps, reportStep{Name: r.scrub.String(s.Name), Location: s.Location, Op: s.Op, State: "skipped"})
		}
		if err := rf.add(b); err != nil {
			r.warnf("%v", err)
		}
	}
	if ts := r.e.s.traceFor(); ts != nil {
		if err := r.exportTrace(ctx, ts, start, sum, ""); err != nil {
			r.warnf("exporting the trace: %v", err)
		}
	}
	r.wmu.Lock()
	res.Summary.Warnings = slices.Clone(r.warnings)
	r.wmu.Unlock()
}
