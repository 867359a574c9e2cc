package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/ladingbuild/lading/internal/benchgraph"
	"github.com/ladingbuild/lading/internal/llb"
)

// The compile metric: the same graph two ways, as in BenchmarkCompile
// (internal/llb/bench_test.go, whose shapes these copy): an image, then n
// steps that each set an env var and run a command with a cache mount.
// Both sides include building the graph and marshalling it to a
// definition, which is what a program pays before the engine sees it.

var compileSizes = []int{10, 200, 2000}

// Targets: time at every size, allocations at the largest, and the SDK's
// own scaling. Small graphs are the common case, so the time target holds
// at 10 steps as much as at 2000.
const (
	compileTimeTarget    = 1.0  // SDK time / raw llb time, at every size
	compileAllocsTarget  = 1.5  // SDK allocations / raw llb allocations at 2000 steps
	compileScalingTarget = 11.0 // SDK time at 2000 steps / at 200 steps
)

func compileSDK(ctx context.Context, n int) error {
	_, err := llb.CompileValue(ctx, benchgraph.SDK(n), llb.Options{})
	return err
}

func compileRaw(ctx context.Context, n int) error {
	_, err := benchgraph.Raw(n).Marshal(ctx)
	return err
}

// opSample is the cost of one operation, averaged over a batch.
type opSample struct {
	seconds float64 // wall time per op
	cpu     float64 // CPU time of the process (all threads, GC included) per op
	allocs  float64 // heap allocations per op
	bytes   float64 // heap bytes allocated per op
}

// measureOp runs f in a batch lasting at least minDur (at least once) and
// returns the cost per call. The heap is collected first, untimed, as
// testing.B does, and its free memory returned to the system: after raw
// llb's 2000-step batch (gigabytes allocated) the runtime would otherwise
// keep returning it in the background during the next batches, and the
// page faults and scavenging made the 10-step figures swing from 0.9× to
// 2× from run to run.
func measureOp(f func() error, minDur time.Duration) (opSample, error) {
	debug.FreeOSMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	start := time.Now()
	n := 0
	for {
		if err := f(); err != nil {
			return opSample{}, err
		}
		n++
		if time.Since(start) >= minDur {
			break
		}
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	return opSample{
		seconds: elapsed.Seconds() / float64(n),
		cpu:     cpu / float64(n),
		allocs:  float64(after.Mallocs-before.Mallocs) / float64(n),
		bytes:   float64(after.TotalAlloc-before.TotalAlloc) / float64(n),
	}, nil
}

// compileSamples holds both sides' samples at one size.
type compileSamples struct {
	sdk, raw []opSample
}

// measureCompile runs the compile comparison: for each run, each size, the
// SDK then raw llb, each a batch of at least minDur.
func measureCompile(ctx context.Context, sizes []int, runs int, minDur time.Duration, progress func(string, ...any)) (map[int]*compileSamples, error) {
	res := map[int]*compileSamples{}
	for _, n := range sizes {
		res[n] = &compileSamples{}
		// Warm up both sides (code paths, heap size) untimed.
		if err := compileSDK(ctx, n); err != nil {
			return nil, fmt.Errorf("sdk, %d steps: %w", n, err)
		}
		if err := compileRaw(ctx, n); err != nil {
			return nil, fmt.Errorf("raw llb, %d steps: %w", n, err)
		}
	}
	for i := range runs {
		for _, n := range sizes {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s, err := measureOp(func() error { return compileSDK(ctx, n) }, minDur)
			if err != nil {
				return nil, fmt.Errorf("sdk, %d steps: %w", n, err)
			}
			r, err := measureOp(func() error { return compileRaw(ctx, n) }, minDur)
			if err != nil {
				return nil, fmt.Errorf("raw llb, %d steps: %w", n, err)
			}
			res[n].sdk = append(res[n].sdk, s)
			res[n].raw = append(res[n].raw, r)
			progress("compile run %d/%d, %d steps: sdk %s, llb %s", i+1, runs, n,
				formatValue(s.seconds, Seconds), formatValue(r.seconds, Seconds))
		}
	}
	return res, nil
}

func field(xs []opSample, f func(opSample) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// compileRows turns the samples into the report's rows: time and
// allocations per size (targets at the largest), and the SDK's scaling
// from the middle size to the largest.
func compileRows(sizes []int, res map[int]*compileSamples) []Row {
	var rows []Row
	largest := sizes[len(sizes)-1]
	seconds := func(s opSample) float64 { return s.seconds }
	allocs := func(s opSample) float64 { return s.allocs }
	for _, n := range sizes {
		s := res[n]
		t := pair{field(s.sdk, seconds), field(s.raw, seconds)}.row(fmt.Sprintf("compile-time-%d", n), Seconds, Ratio, compileTimeTarget)
		a := pair{field(s.sdk, allocs), field(s.raw, allocs)}.row(fmt.Sprintf("compile-allocs-%d", n), Count, Info, 0)
		cpu := func(s opSample) float64 { return s.cpu }
		t.Note = fmt.Sprintf("SDK (sdk values -> llb.CompileValue) vs the same graph in raw llb (State.Marshal), per compile; sdk %s, llb %s; in CPU time %s",
			spread(field(s.sdk, seconds), Seconds), spread(field(s.raw, seconds), Seconds),
			formatRatio(median(pair{field(s.sdk, cpu), field(s.raw, cpu)}.ratios())))
		if n == largest {
			a.Check, a.Target = Ratio, compileAllocsTarget
		}
		rows = append(rows, t, a)
	}
	if len(sizes) >= 2 {
		mid := sizes[len(sizes)-2]
		cpu := func(s opSample) float64 { return s.cpu }
		// The median of the per-run scalings: each run measured both sizes
		// back to back.
		scaling := func(f func(opSample) float64) float64 {
			return median(pair{field(res[largest].sdk, f), field(res[mid].sdk, f)}.ratios())
		}
		rawScaling := median(pair{field(res[largest].raw, seconds), field(res[mid].raw, seconds)}.ratios())
		sc := newRow(fmt.Sprintf("compile-scaling-%d/%d", largest, mid), Factor, Absolute, compileScalingTarget)
		sc.Lading = scaling(seconds)
		sc.Peer = rawScaling
		sc.Note = fmt.Sprintf("SDK time at %d steps / at %d steps (%.0f× more steps), median of the runs' ratios; in CPU time %.1f×; peer column: raw llb's scaling",
			largest, mid, float64(largest)/float64(mid), scaling(cpu))
		rows = append(rows, sc)
	}
	return rows
}

func runCompile(ctx context.Context, c *config) []Row {
	minDur := 500 * time.Millisecond
	if c.quick {
		minDur = 100 * time.Millisecond
	}
	res, err := measureCompile(ctx, compileSizes, c.runs, minDur, c.logf)
	if err != nil {
		var rows []Row
		for _, n := range compileSizes {
			rows = append(rows, newRow(fmt.Sprintf("compile-time-%d", n), Seconds, Ratio, compileTimeTarget))
		}
		rows = append(rows,
			newRow(fmt.Sprintf("compile-allocs-%d", compileSizes[len(compileSizes)-1]), Count, Ratio, compileAllocsTarget),
			newRow(fmt.Sprintf("compile-scaling-%d/%d", compileSizes[len(compileSizes)-1], compileSizes[len(compileSizes)-2]), Factor, Absolute, compileScalingTarget))
		return failed(rows, err)
	}
	return compileRows(compileSizes, res)
}
