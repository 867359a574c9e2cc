package explain

import (
	"fmt"
	"strings"
)

// Rerun is a step that runs again: its position in the new build (1-based,
// as plans number steps), the step and why.
type Rerun struct {
	Index int
	Step  Step
	Why   string
}

// Reruns lists the steps of cur that run again compared with prev, every
// step after its inputs.
func Reruns(prev, cur *Record) []Rerun {
	pos := map[string]int{}
	for i, s := range cur.Steps {
		pos[s.ID] = i + 1
	}
	var out []Rerun
	for _, c := range Compare(prev, cur).Changed() {
		out = append(out, Rerun{Index: pos[c.Step.ID], Step: c.Step, Why: c.Why})
	}
	return out
}

// Format renders reruns of a build of total steps: a summary line
// ("re-runs 3 of 9 steps: #7–#9"), then one line per step.
func Format(reruns []Rerun, total int) string {
	if len(reruns) == 0 {
		return fmt.Sprintf("re-runs none of %d steps\n", total)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "re-runs %d of %d steps: %s\n", len(reruns), total, ranges(reruns))
	for _, r := range reruns {
		fmt.Fprintf(&b, "  #%d %s: %s\n", r.Index, r.Step.Name, r.Why)
	}
	return b.String()
}

// ranges renders the indexes as runs: "#4–#6, #9".
func ranges(rs []Rerun) string {
	var parts []string
	for i := 0; i < len(rs); {
		j := i
		for j+1 < len(rs) && rs[j+1].Index == rs[j].Index+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("#%d–#%d", rs[i].Index, rs[j].Index))
		} else {
			parts = append(parts, fmt.Sprintf("#%d", rs[i].Index))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
