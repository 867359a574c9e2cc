package engine

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// runReport is what a build keeps for its upload report, run report and
// trace.
type runReport struct {
	uploads *uploads
	// caches delivers the cache volumes' sizes, asked for while the
	// build runs; nil when there is no report or no cache volume.
	caches chan []reportCache
	// reported is set once afterBuild ran.
	reported bool
	// sizes guards the kept volume sizes against a late measurement
	// (report_sizes.go).
	sizes sizeGuard
}

// reportUnstarted reports a build that failed before its solve began
// (a value that does not compile, a secret that cannot be read): the
// report and the trace then show the build with its error and no steps.
func (r *run) reportUnstarted(ctx context.Context, start time.Time, err *error) {
	if !r.rep.reported && *err != nil {
		r.afterBuild(ctx, start, nil, *err)
	}
}

// cacheSizesWait bounds how long a finished build waits for the cache
// volumes' sizes before it reports them as unknown.
const cacheSizesWait = 2 * time.Second

// startReport is called before the solve: when the build writes a run
// report it looks up the cache volumes' sizes meanwhile (report_sizes.go). The function it returns runs
// afterBuild with the build's result and error, read when the build
// returns.
func (r *run) startReport(ctx context.Context, start time.Time) func(res **Result, err *error) {
	if r.e.s.reportFileFor() != nil && len(r.pre.CacheVolumes) > 0 {
		r.rep.caches = make(chan []reportCache, 1)
		go func() { r.rep.caches <- r.cacheSizes(ctx) }()
	}
	return func(res **Result, err *error) { r.afterBuild(ctx, start, *res, *err) }
}

// reportBuilds numbers the builds of the process for their titles.
var reportBuilds atomic.Int64

// afterBuild runs when a build that reached the solve returns, whether it
// succeeded or failed: it lists the uploads in the summary and on the
// progress output, writes the run report and exports the trace. Nothing
// it does fails the build: problems are warnings.
func (r *run) afterBuild(ctx context.Context, start time.Time, res *Result, buildErr error) {
	r.rep.reported = true
	var sum Summary
	switch {
	case res != nil:
		res.Summary.Uploads = r.rep.uploads.list()
		sum = res.Summary
	case r.mon != nil:
		sum = r.mon.summary(time.Since(start))
		sum.Uploads = r.rep.uploads.list()
	default:
		sum = Summary{Duration: time.Since(start), Uploads: r.rep.uploads.list()}
	}
	r.printUploads(sum.Uploads)
	errText := ""
	if buildErr != nil {
		errText = r.scrub.String(buildErr.Error())
	}
	if rf := r.e.s.reportFileFor(); rf != nil {
		title := fmt.Sprintf("build %d", reportBuilds.Add(1))
		switch n := len(sum.Steps); {
		case n > 0:
			title += ": " + sum.Steps[n-1].Name
		case buildErr != nil:
			title += ": failed before any step started"
		}
		caches := r.awaitCacheSizes()
		r.sizesChanged(sum) // report_sizes.go
		if err := rf.add(newReportBuild(title, r.e.addr, start, sum, errText, caches, r.scrub)); err != nil {
			r.warnf("%v", err)
		}
	}
	if ts := r.e.s.traceFor(); ts != nil {
		if err := r.exportTrace(ctx, ts, start, sum, errText); err != nil {
			r.warnf("exporting the trace: %v", err)
		}
	}
	if res != nil {
		r.wmu.Lock()
		res.Summary.Warnings = slices.Clone(r.warnings)
		r.wmu.Unlock()
	}
}

// printUploads prints one line per host directory on the progress output
// (not in quiet or rawjson mode, whose output is for programs).
func (r *run) printUploads(ups []Upload) {
	mode, _ := progressMode(r.e.s.progress)
	if mode == ProgressQuiet || mode == ProgressRawJSON || r.e.s.progressOut == nil {
		return
	}
	for _, u := range ups {
		fmt.Fprintln(r.e.s.progressOut, r.scrub.String(u.String()))
	}
}

// awaitCacheSizes returns the sizes startReport asked for, or each
// volume as unknown when the engine has not answered in time.
func (r *run) awaitCacheSizes() []reportCache {
	if r.rep.caches == nil {
		return nil
	}
	t := time.NewTimer(cacheSizesWait)
	defer t.Stop()
	select {
	case c := <-r.rep.caches:
		return c
	case <-t.C:
		return unknownSizes(r.pre.CacheVolumes)
	}
}

// unknownSizes lists the volumes with no size.
func unknownSizes(ids []string) []reportCache {
	out := make([]reportCache, 0, len(ids))
	for _, id := range ids {
		out = append(out, reportCache{ID: id, Size: "unknown"})
	}
	return out
}

// cacheIDPattern finds the cache volume id in the description BuildKit
// gives a cache mount's record: `cached mount /go/pkg/mod from exec with id
// "go-mod"`; without "with id", the id is the mount path.
var cacheIDPattern = regexp.MustCompile(`^cached mount (\S+) from .*?(?: with id ("(?:[^"\\]|\\.)*"))?$`)

// cacheMountID returns the cache volume id of a cache mount's record
// description.
func cacheMountID(desc string) (string, bool) {
	m := cacheIDPattern.FindStringSubmatch(desc)
	if m == nil {
		return "", false
	}
	if m[2] == "" {
		return m[1], true
	}
	id, err := strconv.Unquote(m[2])
	if err != nil {
		return "", false
	}
	return id, true
}
