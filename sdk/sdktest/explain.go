package sdktest

import (
	"encoding/json"
	"fmt"
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
	pos := map[string]int{}
	for i, s := range cur.Steps {
		pos[s.ID] = i + 1
	}
	e := Explanation{Steps: len(cur.Steps)}
	for _, c := range explain.Compare(old, cur).Changed() {
		e.Reruns = append(e.Reruns, Rerun{Index: pos[c.Step.ID], Op: c.Step.Op, Name: c.Step.Name, Location: c.Step.Location, Why: c.Why})
	}
	return e
}

// String renders the explanation: a summary line ("re-runs 3 of 9 steps:
// #7–#9"), then one line per step.
func (e Explanation) String() string {
	if len(e.Reruns) == 0 {
		return fmt.Sprintf("re-runs none of %d steps\n", e.Steps)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "re-runs %d of %d steps: %s\n", len(e.Reruns), e.Steps, e.ranges())
	for _, r := range e.Reruns {
		fmt.Fprintf(&b, "  #%d %s: %s\n", r.Index, r.Name, r.Why)
	}
	return b.String()
}

// ranges renders the indexes as runs: "#4–#6, #9".
func (e Explanation) ranges() string {
	var parts []string
	for i := 0; i < len(e.Reruns); {
		j := i
		for j+1 < len(e.Reruns) && e.Reruns[j+1].Index == e.Reruns[j].Index+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("#%d–#%d", e.Reruns[i].Index, e.Reruns[j].Index))
		} else {
			parts = append(parts, fmt.Sprintf("#%d", e.Reruns[i].Index))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
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
