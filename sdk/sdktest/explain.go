package sdktest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ladingbuild/lading/internal/explain"
	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// Explanation lists the steps of a value that run again after a change,
// each with the first input that changed and its Go line: what a code
// reviewer wants to know of a change to a build graph.
type Explanation struct {
	// Reruns are the steps that run again, every step after its inputs.
	Reruns []Rerun
	// Steps is the number of steps of the changed value (sources
	// included, as in its plan).
	Steps int
}

// Rerun is one step that runs again.
type Rerun struct {
	// Index is the step's position in the changed value's plan (1-based,
	// as [Plan] numbers steps).
	Index int
	// Op, Name and Location describe the step as in [Step].
	Op, Name, Location string
	// Why is the first of its inputs that changed, in words, ending with
	// the step's Go file:line ("env GOFLAGS changed: \"\" → \"-mod=mod\"
	// (ci/graph.go:14)").
	Why string
}

// Explain compares two versions of a value, before and after a change,
// with no daemon: which steps will run again and why. Host directories are
// read from disk (the same files for both), base images are not resolved
// (a moved tag is not seen). A value that does not compile fails the test.
func Explain(t testing.TB, before, after sdk.Value) Explanation {
	t.Helper()
	old := recordOf(t, before)
	cur := recordOf(t, after)
	return explanationOf(old, cur)
}

// explanationOf lists the steps of cur that differ from old.
func explanationOf(old, cur *explain.Record) Explanation {
	e := Explanation{Steps: len(cur.Steps)}
	for _, r := range explain.Reruns(old, cur) {
		e.Reruns = append(e.Reruns, Rerun{Index: r.Index, Op: r.Step.Op, Name: r.Step.Name, Location: r.Step.Location, Why: r.Why})
	}
	return e
}

// String renders the explanation: a summary line ("re-runs 3 of 9 steps:
// #7–#9"), then one line per step.
func (e Explanation) String() string {
	rs := make([]explain.Rerun, len(e.Reruns))
	for i, r := range e.Reruns {
		rs[i] = explain.Rerun{Index: r.Index, Step: explain.Step{Name: r.Name}, Why: r.Why}
	}
	return explain.Format(rs, e.Steps)
}

// Rerun returns the step of the explanation whose name starts with
// prefix, and whether there is one.
func (e Explanation) Rerun(prefix string) (Rerun, bool) {
	for _, r := range e.Reruns {
		if strings.HasPrefix(r.Name, prefix) {
			return r, true
		}
	}
	return Rerun{}, false
}

// WriteRecord writes v's record, the JSON form `lading explain OLD NEW`
// compares, to path: its steps, their inputs and the files of its host
// directories, without a daemon (base images unresolved). A CI job can
// write one on the main branch and one on a change and explain the
// difference in review.
func WriteRecord(t testing.TB, v sdk.Value, path string) {
	t.Helper()
	r := recordOf(t, v)
	dt, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatalf("sdktest.WriteRecord: %v", err)
	}
	if err := os.WriteFile(path, dt, 0o644); err != nil {
		t.Fatalf("sdktest.WriteRecord: %v", err)
	}
}

// recordOf records v offline, failing the test if v does not compile.
func recordOf(t testing.TB, v sdk.Value) *explain.Record {
	t.Helper()
	m, err := llb.ModelOf(v)
	if err != nil {
		t.Fatalf("sdktest.Explain: %v", llb.PublicError(err))
	}
	r, err := explain.Of(t.Context(), m, llb.Options{}, true)
	if err != nil {
		t.Fatalf("sdktest.Explain: %v", llb.PublicError(err))
	}
	return r
}
