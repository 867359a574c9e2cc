package lint

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteText writes the findings for people: one line each with its Go
// file:line, severity, rule and message, the fix below it, then a count.
// Silenced findings are listed with their reason.
func (r *Report) WriteText(w io.Writer) error {
	var errs, warns, silenced int
	for _, f := range r.findings {
		state := ""
		switch {
		case f.Silenced:
			silenced++
			state = " (silenced at " + f.SilencedAt.String() + ": " + f.Reason + ")"
		case f.Severity == Error:
			errs++
		case f.Severity == Warning:
			warns++
		}
		if _, err := fmt.Fprintf(w, "%s: %s [%s] %s: %s%s\n    fix: %s\n", f.Location, f.Severity, f.Rule, f.Step, f.Message, state, f.Fix); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d error(s), %d warning(s), %d silenced; %d fail the check\n", errs, warns, silenced, len(r.Failing()))
	return err
}

// jsonReport is the JSON form of a Report.
type jsonReport struct {
	Findings []Finding `json:"findings"`
	Failing  int       `json:"failing"`
	FailOn   Severity  `json:"fail_on"`
}

// MarshalJSON writes {"findings": [...], "failing": N, "fail_on": "error"};
// silenced findings are included, with "silenced": true and their reason.
func (r *Report) MarshalJSON() ([]byte, error) {
	f := r.findings
	if f == nil {
		f = []Finding{}
	}
	return json.Marshal(jsonReport{Findings: f, Failing: len(r.Failing()), FailOn: r.failOn})
}

// WriteJSON writes the report as indented JSON (see MarshalJSON).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
