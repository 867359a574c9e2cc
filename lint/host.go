package lint

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"

	"github.com/ladingbuild/lading/internal/hostpaths"
	"github.com/ladingbuild/lading/internal/llb"
)

// checkHost: host-context. It reads the top level of the directory (one
// ReadDir, no walk) and its .dockerignore, and reports entries that the
// Include, Exclude and .dockerignore patterns would still send, and that
// the graph reads (the compiler sends only what steps copy or mount).
func (l *linter) checkHost(n *llb.Node, op *llb.LocalOp) {
	entries, err := os.ReadDir(op.Path)
	if err != nil {
		return // a missing directory fails the build with its own error
	}
	exclude := op.Exclude
	ignoreNote := ""
	if !op.NoDockerignore {
		extra, err := llb.ReadDockerignore(op.Path)
		if err != nil {
			return // the compiler reports a bad .dockerignore
		}
		exclude = append(append([]string(nil), extra...), exclude...)
	} else {
		ignoreNote = " (IgnoreDockerignore is set)"
	}
	pm, err := patternmatcher.New(exclude)
	if err != nil {
		return
	}
	include := op.Include
	if only := l.sends(op); only != nil {
		include = only
	}
	for _, e := range entries {
		name := e.Name()
		dir := e.IsDir()
		k, ok := hostpaths.Match(name, dir)
		if !ok || !sent(name, include, pm) {
			continue
		}
		sev := Warning
		if k.Credential {
			sev = Error
		}
		shown := name
		if dir {
			shown += "/"
		}
		l.report(n, finding{rule: HostContext, sev: sev, subject: op.Path + "\x00" + name,
			msg: "host directory " + quote(op.Given) + " sends " + shown + ", " + k.What + ", to the engine: no Exclude or .dockerignore pattern leaves it out" + ignoreNote,
			fix: "add " + quote(shown) + " to .dockerignore, or sdk.Exclude(" + quote(shown) + "), or send only what the build needs with sdk.Include"})
	}
}

// sent reports whether a top-level entry passes the include and exclude
// patterns.
func sent(name string, include []string, exclude *patternmatcher.PatternMatcher) bool {
	if len(include) > 0 && !included(name, include) {
		return false
	}
	ex, err := exclude.MatchesOrParentMatches(name)
	return err == nil && !ex
}

// included reports whether an include pattern selects name or something
// in it.
func included(name string, include []string) bool {
	for _, p := range include {
		p = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "./")
		if p == "." || p == name || strings.HasPrefix(p, name+"/") {
			return true
		}
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
		if first, _, _ := strings.Cut(p, "/"); strings.ContainsAny(first, "*?[") {
			if ok, _ := filepath.Match(first, name); ok {
				return true
			}
		}
	}
	return false
}
