package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/ladingbuild/lading/lint"
)

// LintMode says whether builds lint their value first: [LintOff],
// [LintWarn] or [LintError].
type LintMode int

const (
	// LintOff builds without linting (the default).
	LintOff LintMode = iota
	// LintWarn lints before solving and lists the findings that are not
	// silenced as the build's warnings (printed on the progress output and
	// in Summary.Warnings); the build goes on.
	LintWarn
	// LintError lints before solving and fails the build, before anything
	// is sent to the engine, with a *lint.CheckError when a finding at
	// error severity is not silenced; lesser findings are warnings.
	LintError
)

// WithLint lints every build's value before it is solved (package lint's
// rules, offline; tags the build's lock records count as pinned). Without
// this option builds read LADING_LINT (off, warn or error).
func WithLint(mode LintMode, opts ...lint.Option) Option {
	return func(s *settings) {
		s.only("WithLint", forBuilds, "it checks the values of builds")
		s.guard.lintSet, s.guard.lint, s.guard.lintOpts = true, mode, opts
	}
}

// lintMode is the lint mode of builds: the option, else LADING_LINT.
func (e *Engine) lintMode() (LintMode, error) {
	if e.s.guard.lintSet {
		return e.s.guard.lint, nil
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("LADING_LINT"))); v {
	case "", "off":
		return LintOff, nil
	case "warn":
		return LintWarn, nil
	case "error":
		return LintError, nil
	default:
		return LintOff, fmt.Errorf("LADING_LINT=%q: want off, warn or error", v)
	}
}

// lintCheck lints the build's value (when the build has one and lint is
// on): findings become warnings, and at LintError the failing ones fail
// the build.
func (r *run) lintCheck() error {
	mode, err := r.e.lintMode()
	if err != nil || mode == LintOff || r.req.value == nil {
		return err
	}
	opts := append([]lint.Option{lint.FailOn(lint.Error)}, r.e.s.guard.lintOpts...)
	if r.guard != nil && r.guard.lock != nil {
		opts = append(opts, lint.WithLock(r.guard.lock))
	}
	rep, err := lint.Run(r.req.value, opts...)
	if err != nil {
		return err
	}
	failing := rep.Failing()
	for _, f := range rep.Findings() {
		if !f.Silenced && (mode == LintWarn || f.Severity < lint.Error) {
			r.warnf("lint: %s", f)
		}
	}
	if mode == LintError && len(failing) > 0 {
		return &lint.CheckError{Findings: failing}
	}
	return nil
}
