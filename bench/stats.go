package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// median returns the median of xs (NaN for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread describes samples for notes: "min 1.2s, max 1.4s".
func spread(xs []float64, u Unit) string {
	if len(xs) == 0 {
		return ""
	}
	return fmt.Sprintf("min %s, max %s", formatValue(slices.Min(xs), u), formatValue(slices.Max(xs), u))
}

// pair holds the samples of the two sides of one comparison.
type pair struct {
	a, b []float64
}

// interleave runs a and b alternately, runs times each (A B A B …), and
// collects the value each returns. It stops at the first error.
func interleave(runs int, a, b func(i int) (float64, error)) (pair, error) {
	var p pair
	for i := range runs {
		v, err := a(i)
		if err != nil {
			return p, err
		}
		p.a = append(p.a, v)
		v, err = b(i)
		if err != nil {
			return p, err
		}
		p.b = append(p.b, v)
	}
	return p, nil
}

// timed runs f and returns its wall time in seconds.
func timed(f func() error) (float64, error) {
	start := time.Now()
	err := f()
	return time.Since(start).Seconds(), err
}

// ratios returns a[i]/b[i] for each run.
func (p pair) ratios() []float64 {
	var out []float64
	for i := range min(len(p.a), len(p.b)) {
		if p.b[i] != 0 {
			out = append(out, p.a[i]/p.b[i])
		}
	}
	return out
}

// row builds a row from the two sides' samples: the medians of each side,
// and the median of the per-run ratios.
func (p pair) row(name string, u Unit, check Check, target float64) Row {
	r := Row{Name: name, Unit: u, Lading: median(p.a), Peer: median(p.b), Check: check, Target: target}
	if rs := p.ratios(); len(rs) > 0 {
		r.PairRatio = median(rs)
	}
	return r
}

func isNaN(v float64) bool { return math.IsNaN(v) }

// newRow is a row with no values yet.
func newRow(name string, u Unit, check Check, target float64) Row {
	return Row{Name: name, Unit: u, Lading: math.NaN(), Peer: math.NaN(), Check: check, Target: target}
}
