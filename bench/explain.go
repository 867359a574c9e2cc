package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
)

// The explain metrics: what explained cache misses and the skip check
// cost.
//
// explain-overhead: a fully cached build of examples/multistage with
// explanations on (reading the last record, hashing the host directory
// with the stat fast path, writing the record) against off
// (engine.WithoutExplanations), alternating on one connection.
//
// skip-check: deciding that an unchanged build of a 20,000-file host
// directory can be skipped (engine.WithSkipUnchanged), warm: every file's
// stat matches the last record, so none is read. Also against a cached
// build of the same target through the engine.

const (
	explainOverheadTarget = 1.05
	skipCheckTarget       = 0.5 // seconds
	skipVsBuildTarget     = 0.5
)

func runExplain(ctx context.Context, c *config) []Row {
	overhead := newRow("explain-overhead", Seconds, Ratio, explainOverheadTarget)
	check := newRow("skip-check", Seconds, Absolute, skipCheckTarget)
	vsBuild := newRow("skip-check-vs-build", Seconds, Ratio, skipVsBuildTarget)
	rows := []Row{overhead, check, vsBuild}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	if c.app == "" {
		return failed(rows, fmt.Errorf("cannot find examples/multistage/app: run from the repository root or pass -app"))
	}
	eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.Silent(), engine.WithProgress(engine.ProgressQuiet),
		engine.WithRecords(filepath.Join(c.work, "records")), engine.WithProgramName("bench"))
	if err != nil {
		return failed(rows, err)
	}
	defer eng.Close()
	var err2 error
	if rows[0], err2 = explainOverhead(ctx, c, eng); err2 != nil {
		rows[0].Err = err2
	}
	if rows[1], rows[2], err2 = skipCheck(ctx, c, eng); err2 != nil {
		rows[1].Err, rows[2].Err = err2, err2
	}
	return rows
}

// explainOverhead times cached builds of the example with explanations on
// and off.
func explainOverhead(ctx context.Context, c *config, on *engine.Engine) (Row, error) {
	row := newRow("explain-overhead", Seconds, Ratio, explainOverheadTarget)
	off := on.With(engine.WithoutExplanations())
	build := func(e *engine.Engine) (float64, error) {
		var res *engine.Result
		t, err := timed(func() error {
			var err error
			res, err = e.Build(ctx, graph.Image(graph.Build(sdk.Host(c.app), benchProxy()), "dev"))
			return err
		})
		if err == nil && res.Summary.Ran > 0 {
			err = fmt.Errorf("a cached build ran %d steps:\n%s", res.Summary.Ran, res.Summary)
		}
		return t, err
	}
	// Warm up: fill the cache and write the record.
	for _, e := range []*engine.Engine{on, on, off} {
		if _, err := e.Build(ctx, graph.Image(graph.Build(sdk.Host(c.app), benchProxy()), "dev")); err != nil {
			return row, err
		}
	}
	// Many pairs, alternating: the builds are short and the machine's
	// noise is not.
	var a, b []float64
	for i := range 3 * max(c.runs, 5) {
		// Which side goes first alternates: the engine's own work after a
		// build (its cache bookkeeping) must not weigh on one side.
		first, second := on, off
		if i%2 == 1 {
			first, second = off, on
		}
		t1, err := build(first)
		if err != nil {
			return row, err
		}
		t2, err := build(second)
		if err != nil {
			return row, err
		}
		ta, tb := t1, t2
		if i%2 == 1 {
			ta, tb = t2, t1
		}
		a, b = append(a, ta), append(b, tb)
		c.logf("explain-overhead run %d: on %s, off %s", i+1, formatValue(ta, Seconds), formatValue(tb, Seconds))
	}
	row = pair{a, b}.row("explain-overhead", Seconds, Ratio, explainOverheadTarget)
	row.Note = fmt.Sprintf("examples/multistage fully cached, explanations on vs off; on %s, off %s", spread(a, Seconds), spread(b, Seconds))
	return row, nil
}

// skipCheck times a skipped build of a 20,000-file host directory against
// a cached build of it.
func skipCheck(ctx context.Context, c *config, eng *engine.Engine) (Row, Row, error) {
	check := newRow("skip-check", Seconds, Absolute, skipCheckTarget)
	vs := newRow("skip-check-vs-build", Seconds, Ratio, skipVsBuildTarget)
	spec := contextTree(c.quick)
	dir := filepath.Join(c.work, "skip-tree")
	c.logf("skip-check: generating %d files", spec.files)
	if _, err := generateTree(dir, spec); err != nil {
		return check, vs, err
	}
	v := func() *sdk.Container { return sdk.Scratch().WithDirectory("/src", sdk.Host(dir)) }
	skipping := eng.With(engine.WithSkipUnchanged())
	if name, err := ladingLocalName(ctx, dir); err == nil {
		c.ownLocal(name)
	}
	// The first build sends the tree and writes the record; the second
	// is cached and rewrites it long after the files were written.
	for range 2 {
		if _, err := eng.Build(ctx, v()); err != nil {
			return check, vs, err
		}
	}
	var a, b []float64
	for i := range max(c.runs, 5) {
		var res *engine.Result
		ta, err := timed(func() error {
			var err error
			res, err = skipping.Build(ctx, v())
			return err
		})
		if err != nil {
			return check, vs, err
		}
		if res.Summary.Skipped == "" {
			return check, vs, fmt.Errorf("an unchanged build was not skipped:\n%s", res.Summary)
		}
		tb, err := timed(func() error {
			var err error
			res, err = eng.Build(ctx, v())
			return err
		})
		if err != nil {
			return check, vs, err
		}
		a, b = append(a, ta), append(b, tb)
		c.logf("skip-check run %d: skipped in %s, cached build %s", i+1, formatValue(ta, Seconds), formatValue(tb, Seconds))
	}
	check = newRow("skip-check", Seconds, Absolute, skipCheckTarget)
	check.Lading = median(a)
	check.Note = fmt.Sprintf("%d files, warm (stat fast path): %s", spec.files, spread(a, Seconds))
	vs = pair{a, b}.row("skip-check-vs-build", Seconds, Ratio, skipVsBuildTarget)
	vs.Note = fmt.Sprintf("skipped vs a cached build through the engine: %s vs %s", spread(a, Seconds), spread(b, Seconds))
	return check, vs, nil
}
