package lint

import (
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// silence is one Allow: a rule silenced on one step, with its reason and
// the Go line that said so.
type silence struct {
	rule   Rule
	reason string
	at     llb.Location
}

// The silences are kept here, keyed by the step they silence (a weak
// pointer to its model node, so they go when the step does): sdk values
// are immutable and their model has no place for them. A step is the same
// step in every value that contains it, so a silence holds wherever the
// step is linted.
var allowed struct {
	sync.Mutex
	m map[any][]silence // weak.Pointer[llb.Node] or weak.Pointer[llb.Container]
}

// Allow silences rule on the last step of v and returns v unchanged: the
// step's findings of that rule are still reported, marked Silenced with
// reason, and no longer fail a check. For findings about the image config
// (root-user, init-entrypoint, env and labels) pass the final image.
// reason is required: an empty one, or an unknown rule, is itself a
// finding (lint-allow) at the line that called Allow.
//
//	src := lint.Allow(sdk.Host("."), lint.HostContext, "the tests read .git")
func Allow[V sdk.Value](v V, rule Rule, reason string) V {
	record(v, silence{rule: rule, reason: strings.TrimSpace(reason), at: llb.Caller(1)})
	return v
}

// Allowing is Allow for Container.With chains: it silences rule on the
// step just before it in the chain.
//
//	sdk.From("debian:bookworm").
//		WithExec([]string{"sh", "-c", "curl -fsSL https://get.example.com | sh"}).
//		With(lint.Allowing(lint.PipeToShell, "the installer is our own, served over TLS"))
func Allowing(rule Rule, reason string) func(*sdk.Container) *sdk.Container {
	s := silence{rule: rule, reason: strings.TrimSpace(reason), at: llb.Caller(1)}
	return func(c *sdk.Container) *sdk.Container {
		record(c, s)
		return c
	}
}

// record keeps s for the last step of v (or, for a container with no step
// yet, for the container itself). A value lint cannot read is ignored: Run
// reports it.
func record(v sdk.Value, s silence) {
	m, err := llb.ModelOf(v)
	if err != nil {
		return
	}
	switch m := m.(type) {
	case *llb.Container:
		if m.Root == nil {
			keep(m, s)
			return
		}
		keep(m.Root, s)
	case *llb.Directory:
		if m.Root != nil {
			keep(m.Root, s)
		}
	case *llb.File:
		if m.Root != nil {
			keep(m.Root, s)
		}
	}
}

func keep[T any](p *T, s silence) {
	k := weak.Make(p)
	allowed.Lock()
	defer allowed.Unlock()
	if allowed.m == nil {
		allowed.m = map[any][]silence{}
	}
	if _, ok := allowed.m[k]; !ok {
		runtime.AddCleanup(p, forget, any(k))
	}
	allowed.m[k] = append(allowed.m[k], s)
}

func forget(k any) {
	allowed.Lock()
	defer allowed.Unlock()
	delete(allowed.m, k)
}

// silencesOf returns the silences kept for a step or container.
func silencesOf(key any) []silence {
	var k any
	switch p := key.(type) {
	case *llb.Node:
		k = weak.Make(p)
	case *llb.Container:
		k = weak.Make(p)
	default:
		return nil
	}
	allowed.Lock()
	defer allowed.Unlock()
	return allowed.m[k]
}

// silenced returns the valid silence of rule kept for key, if any.
func silenced(key any, rule Rule) (silence, bool) {
	for _, s := range silencesOf(key) {
		if s.rule == rule && s.reason != "" {
			return s, true
		}
	}
	return silence{}, false
}

// badAllows reports the silences of key that name no rule or give no
// reason, at the line of their Allow.
func (l *linter) badAllows(key any) {
	for _, s := range silencesOf(key) {
		var f finding
		switch {
		case !known(s.rule):
			f = finding{rule: BadAllow, sev: Error, subject: s.at.String() + string(s.rule),
				msg: "Allow names " + quote(string(s.rule)) + ", which is not a rule", fix: "use one of the lint.Rule constants, e.g. lint.RootUser"}
		case s.reason == "":
			f = finding{rule: BadAllow, sev: Error, subject: s.at.String() + string(s.rule),
				msg: "Allow silences " + string(s.rule) + " without a reason", fix: "say why the rule does not apply here, for the next reader"}
		default:
			continue
		}
		l.add(&l.steps, nil, s.at, "lint.Allow", f)
	}
}
