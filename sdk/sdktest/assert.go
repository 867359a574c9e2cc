package sdktest

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// describe names a step for a failure message: its index, what it runs
// and the Go line that made it.
func (s Step) describe() string {
	what := s.Op
	if len(s.Args) > 0 {
		what += " " + strings.Join(s.Args, " ")
	}
	return "step #" + strconv.Itoa(s.Index) + " (" + what + ") at " + s.Location
}

// imageAt names the container value for a failure message about its image
// config: the Go lines of its base and of its last step.
func (p *Plan) imageAt() string {
	if len(p.steps) == 0 {
		return "the image (no steps)"
	}
	first, last := p.steps[0], p.steps[len(p.steps)-1]
	for _, s := range p.steps {
		if s.Op == "from" && p.Image() != nil && len(s.Args) > 0 && s.Args[0] == p.Image().Base {
			first = s
			break
		}
	}
	return "the image from " + first.Location + " whose last step is at " + last.Location
}

// RequireOrder fails the test unless the exec step starting with first is
// an ancestor of the one starting with then: then reads, directly or
// through other steps, what first produced, so first always runs before
// then. Two steps that merely appear in that order in the plan, on
// branches that do not depend on each other, fail.
func (p *Plan) RequireOrder(t testing.TB, first, then []string) {
	t.Helper()
	a, b := p.Exec(t, first...), p.Exec(t, then...)
	if !p.DependsOn(b, a) {
		t.Fatalf("%s should run before %s, but does not feed it: chain the second step onto the first's container (or mount its output)\nplan:\n%s",
			a.describe(), b.describe(), p)
	}
}

// RequireNonRoot fails the test unless the image sets a user other than
// root (name or uid 0).
func (p *Plan) RequireNonRoot(t testing.TB) {
	t.Helper()
	img := p.Image()
	if img == nil {
		t.Fatalf("the value is not a container: %s", p.valueAt())
	}
	user, _, _ := strings.Cut(img.User, ":")
	if user == "" || user == "root" || user == "0" {
		t.Fatalf("%s runs as root (user %q); call WithUser with a non-root user", p.imageAt(), img.User)
	}
}

// valueAt names a value that is not a container.
func (p *Plan) valueAt() string {
	if p.err != nil {
		return p.err.Error()
	}
	if len(p.steps) == 0 {
		return "it has no steps"
	}
	return "its last step is " + p.steps[len(p.steps)-1].describe()
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
		check(s.describe(), s.Env)
	}
	if img := p.Image(); img != nil {
		check("the image config of "+p.imageAt(), img.Env)
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
			t.Fatalf("the image config of %s sets %s", p.imageAt(), name)
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
		t.Fatalf("%s has no cache mount at %s; it has: %v", s.describe(), target, s.Mounts)
	}
	return m
}

// RequireSecretMount fails the test unless the step mounts the named secret
// at target.
func (s Step) RequireSecretMount(t testing.TB, target, secret string) {
	t.Helper()
	m, ok := s.Mount(target)
	if !ok || m.Kind != "secret" || m.Secret != secret {
		t.Fatalf("%s does not mount secret %q at %s; it has: %v", s.describe(), secret, target, s.Mounts)
	}
}

// HasEnv reports whether the step sets name=value.
func (s Step) HasEnv(name, value string) bool {
	return slices.Contains(s.Env, name+"="+value)
}
