package lint

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"

	"github.com/ladingbuild/lading/internal/llb"
)

// hostKind is a class of path a build context should not send.
type hostKind struct {
	sev   Severity
	what  string
	match func(name string, dir bool) bool
}

var hostKinds = []hostKind{
	{Error, "a credential file", credentialFile},
	{Warning, "version control metadata", func(n string, dir bool) bool { return dir && (n == ".git" || n == ".hg" || n == ".svn") }},
	{Warning, "installed dependencies", func(n string, dir bool) bool {
		return dir && (n == "node_modules" || n == ".venv" || n == "venv" || n == "__pycache__" || n == "vendor/bundle")
	}},
	{Warning, "build output", func(n string, dir bool) bool {
		return dir && (n == "dist" || n == "build" || n == "target" || n == "out" || n == "bin" || n == ".next" || n == ".gradle")
	}},
}

// credentialFile reports whether a top-level entry of a host directory
// looks like credentials: .env, SSH keys, PEM and key files, tool configs
// that hold tokens.
func credentialFile(name string, dir bool) bool {
	switch name {
	case ".ssh", ".aws", ".docker", ".gnupg":
		return dir
	case ".npmrc", ".pypirc", ".netrc", ".git-credentials", "credentials.json", ".env":
		return !dir
	}
	if dir {
		return false
	}
	if rest, ok := strings.CutPrefix(name, ".env."); ok {
		return rest != "example" && rest != "sample" && rest != "template" && rest != "dist"
	}
	if strings.HasPrefix(name, "id_") && !strings.HasSuffix(name, ".pub") {
		switch strings.TrimPrefix(name, "id_") {
		case "rsa", "dsa", "ecdsa", "ed25519", "ecdsa_sk", "ed25519_sk":
			return true
		}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore":
		return true
	}
	return false
}

// checkHost: host-context. It reads the top level of the directory (one
// ReadDir, no walk) and its .dockerignore, and reports entries that the
// Include, Exclude and .dockerignore patterns would still send.
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
	for _, e := range entries {
		name := e.Name()
		dir := e.IsDir()
		for _, k := range hostKinds {
			if !k.match(name, dir) || !sent(name, op.Include, pm) {
				continue
			}
			shown := name
			if dir {
				shown += "/"
			}
			l.report(n, finding{rule: HostContext, sev: k.sev, subject: op.Path + "\x00" + name,
				msg: "host directory " + quote(op.Given) + " sends " + shown + ", " + k.what + ", to the engine: no Exclude or .dockerignore pattern leaves it out" + ignoreNote,
				fix: "add " + quote(shown) + " to .dockerignore, or sdk.Exclude(" + quote(shown) + "), or send only what the build needs with sdk.Include"})
			break
		}
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
