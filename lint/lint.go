package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// Report is the result of linting one value: every finding, silenced ones
// included, steps in build order and the image config last.
type Report struct {
	findings []Finding
	failOn   Severity
}

// Run lints v (*sdk.Container, *sdk.Directory or *sdk.File) offline: it
// walks the graph's model, reads no secret, and touches the host only to
// read the top level of Host directories and their .dockerignore. A value
// a build would reject (a nil value, a bad argument) is an error: the
// build's *sdk.ValidationError.
func Run(v sdk.Value, opts ...Option) (*Report, error) {
	s := defaults()
	for _, o := range opts {
		if o != nil {
			o.apply(&s)
		}
	}
	m, err := llb.ModelOf(v)
	if err != nil {
		return nil, llb.PublicError(err)
	}
	if err := llb.Validate(m); err != nil {
		return nil, llb.PublicError(err)
	}
	l := newLinter(&s, m)
	l.run()
	return &Report{findings: l.out(), failOn: s.failOn}, nil
}

// Findings returns every finding, silenced ones included.
func (r *Report) Findings() []Finding { return slices.Clone(r.findings) }

// Failing returns the findings that fail a check: not silenced, and at or
// above the FailOn severity.
func (r *Report) Failing() []Finding {
	var out []Finding
	for _, f := range r.findings {
		if !f.Silenced && f.Severity >= r.failOn {
			out = append(out, f)
		}
	}
	return out
}

// CheckError is Check's error: the findings that fail it. Match it with
// errors.As.
type CheckError struct {
	Findings []Finding
}

// Error lists the findings, one a line, each with its Go file:line.
func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lint: %d finding(s) fail the check:", len(e.Findings))
	for _, f := range e.Findings {
		b.WriteString("\n  " + f.String())
	}
	return b.String()
}

// Check lints v and returns a *CheckError listing the findings that fail
// (unsilenced, at or above FailOn: Error unless set), or the value's
// validation error, or nil. Call it before building to opt in to lint on
// every build:
//
//	if err := lint.Check(app); err != nil {
//		return err
//	}
//	_, err := eng.Build(ctx, app)
func Check(v sdk.Value, opts ...Option) error {
	r, err := Run(v, opts...)
	if err != nil {
		return err
	}
	if f := r.Failing(); len(f) > 0 {
		return &CheckError{Findings: f}
	}
	return nil
}
