package lint

import (
	"fmt"
	"strconv"
	"strings"
)

// Severity is how bad a finding is. Check, sdktest.RequireLintClean and
// the pipeline's lint target fail on findings at or above a threshold
// (Error unless FailOn says otherwise).
type Severity int

// Severities, from least to most severe.
const (
	// Info is advice; it never fails a check unless FailOn(Info) asks.
	Info Severity = iota
	// Warning is a likely problem: worth fixing or silencing with a reason.
	Warning
	// Error is a defect: a leaked secret, an image that runs as root, a
	// base that moves under the build.
	Error
)

// String is "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the severity as its name, for JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, c := range []Severity{Info, Warning, Error} {
		if string(b) == c.String() {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("lint: unknown severity %q (want info, warning or error)", b)
}

// Location is the Go source position of the step a finding is about, as
// sdk recorded it: the last two elements of the file's path and the line.
type Location struct {
	File string // e.g. "ci/main.go"
	Line int
}

// String formats the location as file:line, or "unknown".
func (l Location) String() string {
	if l.File == "" {
		return "unknown"
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// MarshalText writes the location as file:line, for JSON output.
func (l Location) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a location written by MarshalText.
func (l *Location) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "unknown" || s == "" {
		*l = Location{}
		return nil
	}
	i := strings.LastIndexByte(s, ':')
	n, err := strconv.Atoi(s[i+1:])
	if i < 0 || err != nil {
		return fmt.Errorf("lint: location %q is not file:line", s)
	}
	*l = Location{File: s[:i], Line: n}
	return nil
}

// Finding is one problem lint found in a graph. Findings are plain
// values.
type Finding struct {
	Rule     Rule     `json:"rule"`
	Severity Severity `json:"severity"`
	// Location is the Go file:line of the step. For the user and the
	// entrypoint it is the WithUser, WithEntrypoint or WithDefaultArgs
	// call that set them; for the rest of the image config (env, labels)
	// it is the image's last step.
	Location Location `json:"location"`
	// Step names the step: its operation and main argument.
	Step    string `json:"step"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
	// Silenced is set when Allow silenced the rule on this step; Reason
	// is the reason given, SilencedAt where Allow was called.
	Silenced   bool     `json:"silenced"`
	Reason     string   `json:"reason,omitempty"`
	SilencedAt Location `json:"silenced_at,omitzero"`
}

// String formats the finding on one line: "file:line: severity [rule]
// step: message (fix: …)", with the silence and its reason if any.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s [%s] %s: %s", f.Location, f.Severity, f.Rule, f.Step, f.Message)
	if f.Fix != "" {
		b.WriteString(" (fix: " + f.Fix + ")")
	}
	if f.Silenced {
		fmt.Fprintf(&b, " [silenced at %s: %s]", f.SilencedAt, f.Reason)
	}
	return b.String()
}
