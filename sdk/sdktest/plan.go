package sdktest

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// Plan is a value's build graph in topological order, for assertions.
type Plan struct {
	p *llb.Plan
}

// Step is one step of a Plan.
type Step struct {
	llb.PlanStep
}

// Mount is a mount of an exec step.
type Mount = llb.PlanMount

// Image is the image config a container value sets on top of its base
// image's.
type Image = llb.PlanImage

// PlanOf lays out v's graph. It needs no daemon and does no I/O.
func PlanOf(v sdk.Value) *Plan {
	m := llb.Model(v)
	if m == nil {
		return &Plan{&llb.Plan{}}
	}
	return &Plan{llb.BuildPlan(m)}
}

// String renders the plan, one line per step, then the image config.
func (p *Plan) String() string { return p.p.String() }

// Err is the value's validation error, or nil.
func (p *Plan) Err() error { return p.p.Err }

// Steps returns every step in order.
func (p *Plan) Steps() []Step {
	out := make([]Step, len(p.p.Steps))
	for i, s := range p.p.Steps {
		out[i] = Step{s}
	}
	return out
}

// Image is the image config set by the program; nil for a directory or a
// file.
func (p *Plan) Image() *Image { return p.p.Image }

// Execs returns the exec steps in order.
func (p *Plan) Execs() []Step {
	var out []Step
	for _, s := range p.p.Steps {
		if s.Op == "exec" {
			out = append(out, Step{s})
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
// the test if there is none.
func (p *Plan) Exec(t testing.TB, prefix ...string) Step {
	t.Helper()
	s, ok := p.FindExec(prefix...)
	if !ok {
		t.Fatalf("no exec step runs %q; the plan is:\n%s", strings.Join(prefix, " "), p)
	}
	return s
}

// RequireOrder fails the test unless the exec step starting with first
// comes before the one starting with then.
func (p *Plan) RequireOrder(t testing.TB, first, then []string) {
	t.Helper()
	a, b := p.Exec(t, first...), p.Exec(t, then...)
	if a.Index >= b.Index {
		t.Fatalf("step #%d (%s) should run before step #%d (%s)", a.Index, strings.Join(first, " "), b.Index, strings.Join(then, " "))
	}
}

// RequireNonRoot fails the test unless the image sets a user other than
// root (name or uid 0).
func (p *Plan) RequireNonRoot(t testing.TB) {
	t.Helper()
	img := p.Image()
	if img == nil {
		t.Fatalf("the value is not a container")
	}
	user, _, _ := strings.Cut(img.User, ":")
	if user == "" || user == "root" || user == "0" {
		t.Fatalf("the image runs as root (user %q); call WithUser with a non-root user", img.User)
	}
}

// secretish matches env names that usually hold credentials.
var secretish = regexp.MustCompile(`(?i)(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL)`)

// RequireNoSecretInEnv fails the test if a plain env var (of an exec step
// or the image) has a name that looks like a credential. Pass credentials
// with WithSecretEnv or WithMountedSecret instead.
func (p *Plan) RequireNoSecretInEnv(t testing.TB) {
	t.Helper()
	check := func(where string, env []string) {
		for _, kv := range env {
			name, _, _ := strings.Cut(kv, "=")
			if secretish.MatchString(name) {
				t.Fatalf("%s sets %s as a plain env var; use WithSecretEnv or WithMountedSecret", where, name)
			}
		}
	}
	for _, s := range p.Execs() {
		check("step #"+strconv.Itoa(s.Index)+" ("+s.Location+")", s.Env)
	}
	if img := p.Image(); img != nil {
		check("the image config", img.Env)
	}
}

// RequireNoEnv fails the test if the image config sets any of names (for
// example proxy variables, which must not leak into an image).
func (p *Plan) RequireNoEnv(t testing.TB, names ...string) {
	t.Helper()
	img := p.Image()
	if img == nil {
		return
	}
	for _, kv := range img.Env {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(names, name) {
			t.Fatalf("the image config sets %s", kv)
		}
	}
}

// Mount returns the step's mount at target.
func (s Step) Mount(target string) (Mount, bool) {
	for _, m := range s.Mounts {
		if m.Target == target {
			return m, true
		}
	}
	return Mount{}, false
}

// RequireCacheMount fails the test unless the step has a cache mount at
// target, and returns it.
func (s Step) RequireCacheMount(t testing.TB, target string) Mount {
	t.Helper()
	m, ok := s.Mount(target)
	if !ok || m.Kind != "cache" {
		t.Fatalf("step #%d (%s) has no cache mount at %s; it has: %v", s.Index, s.Location, target, s.Mounts)
	}
	return m
}

// RequireSecretMount fails the test unless the step mounts the named secret
// at target.
func (s Step) RequireSecretMount(t testing.TB, target, secret string) {
	t.Helper()
	m, ok := s.Mount(target)
	if !ok || m.Kind != "secret" || m.Secret != secret {
		t.Fatalf("step #%d (%s) does not mount secret %q at %s; it has: %v", s.Index, s.Location, secret, target, s.Mounts)
	}
}

// HasEnv reports whether the step sets name=value.
func (s Step) HasEnv(name, value string) bool {
	return slices.Contains(s.Env, name+"="+value)
}
