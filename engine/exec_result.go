package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ladingbuild/lading/sdk"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// ExecResult is what an exec step did: its output and its exit code.
type ExecResult struct {
	// Stdout and Stderr are what the step wrote, with secret values
	// replaced by "***".
	Stdout, Stderr string
	// ExitCode is the code it exited with: 0, or one of the codes its
	// sdk.ExitCodes option accepts.
	ExitCode int
}

// Exec builds c and returns what its last exec step wrote and the code it
// exited with. c may be any container of a graph: a stage that a later
// value copies from, a step in the middle of a chain. Only c's own steps
// are built (from the cache where they can be), and only up to that exec
// step, which runs again even when its result is cached, so that its
// output exists. A code the step does not accept (by default any but 0;
// see sdk.ExitCodes) returns an [*ExecError], as [Engine.Build] does.
func (e *Engine) Exec(ctx context.Context, c *sdk.Container) (*ExecResult, error) {
	_, res, err := e.read(ctx, c)
	return res, err
}

// acceptedExit is how a build reports that the step being read exited
// with a non-zero code it accepts: BuildKit ran it without the accepted
// codes, so that it would say which code it was, and failed the solve.
type acceptedExit struct {
	res ExecResult
	err error
}

func (a *acceptedExit) Error() string { return a.err.Error() }
func (a *acceptedExit) Unwrap() error { return a.err }

// readStep turns the failure of a step being read into its result when
// the step accepts the code it exited with.
func (r *run) readStep(err error) (*acceptedExit, bool) {
	if !r.req.rerunFinal || len(r.progs) == 0 || r.mon == nil {
		return nil, false
	}
	code, vertex, ok := exitCode(err)
	p := r.progs[0]
	if !ok || vertex != p.FinalExec || !slices.Contains(p.FinalExitCodes, code) {
		return nil, false
	}
	return &acceptedExit{
		res: ExecResult{Stdout: r.mon.captured(StreamStdout), Stderr: r.mon.captured(StreamStderr), ExitCode: code},
		err: err,
	}, true
}

// output builds c with its final exec step rerun and returns the build's
// result, which holds the step's output.
func (e *Engine) output(ctx context.Context, c *sdk.Container) (*Result, error) {
	res, x, err := e.read(ctx, c)
	if res == nil && x != nil {
		// An accepted non-zero exit: the build failed, the step did not.
		res = &Result{stdout: x.Stdout, stderr: x.Stderr}
	}
	return res, err
}

// read builds c with its final exec step rerun and returns what the step
// did, and the build's result unless the step exited with an accepted
// non-zero code (the solve failed then).
func (e *Engine) read(ctx context.Context, c *sdk.Container) (*Result, *ExecResult, error) {
	if err := e.usable(); err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, errors.New("build: nil container")
	}
	var prog *lllb.Program // the last compiled: the one solved
	compile := compileValue(c, true)
	res, err := e.build(ctx, request{compile: func(ctx context.Context, opt lllb.Options) (*lllb.Program, error) {
		p, err := compile(ctx, opt)
		if p != nil {
			prog = p
		}
		return p, err
	}, rerunFinal: true, value: c})
	var acc *acceptedExit
	if errors.As(err, &acc) {
		return nil, &acc.res, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if codes := prog.FinalExitCodes; len(codes) > 0 && !slices.Contains(codes, 0) {
		// It ran without its accepted codes and exited 0, which is not
		// among them.
		st := prog.Steps[prog.FinalExec]
		return nil, nil, &ExecError{Step: st.Name, Args: st.Args, Location: st.Location,
			err: fmt.Errorf("exited with code 0, which the step does not accept (it accepts %v)", codes)}
	}
	return res, &ExecResult{Stdout: res.stdout, Stderr: res.stderr}, nil
}
