package sdktest

import (
	"strings"
	"testing"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/sdk"
)

// RequireLintClean fails the test unless v passes lint: no finding that is
// not silenced at or above the FailOn severity (Error unless an option
// says otherwise). The failure lists each finding with the Go file:line of
// its step and its fix; findings below the threshold, and silenced ones,
// are logged. An invalid value fails with its validation error.
//
//	sdktest.RequireLintClean(t, release)
//	sdktest.RequireLintClean(t, release, lint.FailOn(lint.Warning), lint.Pinned("golang:1.26"))
func RequireLintClean(t testing.TB, v sdk.Value, opts ...lint.Option) {
	t.Helper()
	r, err := lint.Run(v, opts...)
	if err != nil {
		t.Fatalf("lint: %v", err)
		return
	}
	failing := r.Failing()
	var notes []string
	for _, f := range r.Findings() {
		if !containsFinding(failing, f) {
			notes = append(notes, "  "+f.String())
		}
	}
	if len(notes) > 0 {
		t.Logf("lint findings that do not fail the check:\n%s", strings.Join(notes, "\n"))
	}
	if len(failing) == 0 {
		return
	}
	lines := make([]string, len(failing))
	for i, f := range failing {
		lines[i] = "  " + f.String()
	}
	t.Fatalf("the graph does not pass lint: %d finding(s):\n%s\nsilence one with lint.Allow(value, rule, reason) if it does not apply", len(failing), strings.Join(lines, "\n"))
}

func containsFinding(list []lint.Finding, f lint.Finding) bool {
	for _, g := range list {
		if g == f {
			return true
		}
	}
	return false
}
