//go:build race

package lint_test

// raceEnabled: the race detector slows code down about tenfold, so timing
// budgets are checked in runs without it (make test runs them apart).
const raceEnabled = true
