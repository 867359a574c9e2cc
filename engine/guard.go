package engine

import (
	"context"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
)

// guardSettings are the build options that decide what a build may pull
// and how: the lock (lock.go) and the source policy (policy.go).
type guardSettings struct {
	lockSet  bool // WithLock was given: the environment is not read
	lockPath string
	lockMode lock.Mode
	policy   func(Source) Decision
	lintSet  bool // WithLint was given: LADING_LINT is not read
	lint     LintMode
	lintOpts []lint.Option
}

// guard is what one build knows of its lock and policy.
type guard struct {
	mode   lock.Mode
	path   string
	lock   *lock.File // nil in live mode
	index  *sourceIndex
	policy *policyState // nil without a policy or Git pins
	// pins maps Git source identifiers to the locked commit's (lock_git.go).
	pins map[string]string
}

// checkSources loads the lock and, for a frozen build, fails before
// anything is sent when a source of the offline program is not locked. It
// runs after the plan phase.
func (r *run) checkSources(ctx context.Context) error {
	g, err := r.e.newGuard(r.pre)
	if err != nil {
		return err
	}
	r.guard = g
	if g.pins, err = g.gitPins(ctx, g.index); err != nil {
		return err
	}
	if len(g.pins) > 0 && g.policy == nil {
		g.policy = &policyState{index: g.index}
	}
	if err := r.lintCheck(); err != nil {
		return err
	}
	if g.mode == lock.Frozen {
		if err := g.frozenCheck(r.pre); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// newGuard reads the lock (in pinned and frozen mode) for a build of pre.
func (e *Engine) newGuard(pre *lllb.Program) (*guard, error) {
	mode, path, err := e.lockMode()
	if err != nil {
		return nil, err
	}
	g := &guard{mode: mode, path: path, index: indexSources(pre)}
	if mode != lock.Live {
		if g.lock, err = lock.Read(path); err != nil {
			return nil, err
		}
	}
	if e.s.guard.policy != nil {
		g.policy = &policyState{fn: e.s.guard.policy, index: g.index}
	}
	return g, nil
}
