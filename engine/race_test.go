//go:build race

package engine

// raceEnabled: the race detector slows code down about tenfold, so timing
// budgets are checked in runs without it (make test runs the IsFast tests
// apart, without -race).
const raceEnabled = true
