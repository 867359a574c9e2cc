package lint_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

// lineOf returns "lint/<file>:<line>" of the caller, moved by delta, the
// way sdk names call sites.
func lineOf(t *testing.T, delta int) string {
	t.Helper()
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("lint/%s:%d", filepath.Base(file), line+delta)
}
