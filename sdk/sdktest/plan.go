package sdktest

import (
	"slices"
	"strings"
	"testing"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// Plan is a value's build graph in topological order (every step after the
// steps it reads), for assertions. A Plan is immutable.
type Plan struct {
	p     *llb.Plan
	m     llb.Value // the model planned; nil when err is set
	err   error
	steps []Step
	image *Image
}

// PlanOf lays out v's graph. It needs no daemon and does no I/O. A value a
// build would reject before reaching the daemon — a bad argument, a nil
// value, two different secrets under one name — gives a plan with no steps
// whose Err says why: the same check, llb.Validate, runs for both.
func PlanOf(v sdk.Value) *Plan {
	m, err := llb.ModelOf(v)
	if err != nil {
		return &Plan{p: &llb.Plan{Err: err}, err: llb.PublicError(err)}
	}
	p := llb.BuildPlan(m)
	out := &Plan{p: p, m: m, err: llb.PublicError(p.Err), image: newImage(p.Image)}
	if out.err != nil {
		out.m = nil
	}
	for _, s := range p.Steps {
		out.steps = append(out.steps, newStep(s))
	}
	return out
}

// String renders the plan, one line per step, then the image config (or,
// for a directory or a file, its output path). An invalid value renders as
// "error: " and its error.
func (p *Plan) String() string {
	if p.err != nil {
		return "error: " + p.err.Error() + "\n"
	}
	return p.p.String()
}

// Err is the value's validation error, or nil. It is an
// *sdk.ValidationError for a bad argument or a nil value.
func (p *Plan) Err() error { return p.err }

// Steps returns every step in order.
func (p *Plan) Steps() []Step { return slices.Clone(p.steps) }

// Image is the image config set by the program; nil for a directory, a
// file or an invalid value.
func (p *Plan) Image() *Image { return p.image }

// Execs returns the exec steps in order.
func (p *Plan) Execs() []Step {
	var out []Step
	for _, s := range p.steps {
		if s.Op == "exec" {
			out = append(out, s)
		}
	}
	return out
}

// FindExec returns the first exec step whose args start with prefix.
func (p *Plan) FindExec(prefix ...string) (Step, bool) {
	for _, s := range p.Execs() {
		if len(s.Args) >= len(prefix) && slices.Equal(s.Args[:len(prefix)], prefix) {
			return s, true
		}
	}
	return Step{}, false
}

// Exec returns the first exec step whose args start with prefix, and fails
// the test, listing the plan with every step's Go line, if there is none.
func (p *Plan) Exec(t testing.TB, prefix ...string) Step {
	t.Helper()
	s, ok := p.FindExec(prefix...)
	if !ok {
		t.Fatalf("no exec step runs %q; the plan is:\n%s", strings.Join(prefix, " "), p)
	}
	return s
}

// step returns the step with index i (1-based).
func (p *Plan) step(i int) (Step, bool) {
	if i < 1 || i > len(p.steps) {
		return Step{}, false
	}
	return p.steps[i-1], true
}

// reads lists the indexes of the steps s reads directly: its inputs and
// the inputs of its directory and file mounts.
func (s Step) reads() []int {
	in := slices.Clone(s.Inputs)
	for _, m := range s.Mounts {
		if m.Input > 0 {
			in = append(in, m.Input)
		}
	}
	return in
}

// DependsOn reports whether step b reads, directly or through other steps,
// the output of step a: a is an ancestor of b, so a runs before b.
func (p *Plan) DependsOn(b, a Step) bool {
	seen := map[int]bool{}
	todo := b.reads()
	for len(todo) > 0 {
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if i == a.Index {
			return true
		}
		if seen[i] {
			continue
		}
		seen[i] = true
		if s, ok := p.step(i); ok {
			todo = append(todo, s.reads()...)
		}
	}
	return false
}
