package lint

import (
	"regexp"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// credWords are the words of a name that say it holds a credential.
var credWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "secret": true, "secrets": true, "token": true,
	"tokens": true, "apikey": true, "credential": true, "credentials": true, "auth": true,
	"privatekey": true, "passphrase": true, "authtoken": true, "authorization": true,
}

// credPairs are two-word credentials: api_key, access_key…
var credPairs = map[[2]string]bool{
	{"api", "key"}: true, {"access", "key"}: true, {"private", "key"}: true, {"secret", "key"}: true,
	{"client", "secret"}: true, {"signing", "key"}: true, {"encryption", "key"}: true,
}

// notCredLast are last words of names that hold where a credential is, or
// something about it, not the credential: NPM_TOKEN_FILE, AUTH_URL…
var notCredLast = map[string]bool{
	"file": true, "path": true, "dir": true, "url": true, "uri": true, "host": true, "port": true,
	"name": true, "id": true, "endpoint": true, "env": true, "ttl": true, "stdin": true, "type": true,
	"length": true, "policy": true, "user": true, "username": true, "mode": true, "command": true, "helper": true,
}

// splitWords splits a name into lowercase words at non-alphanumerics and
// lower-to-upper case changes: "npmAuthToken" and "NPM_AUTH_TOKEN" give
// npm, auth, token.
func splitWords(name string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(name); i++ {
		var c byte
		if i < len(name) {
			c = name[i]
		}
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		boundary := alnum && i > 0 && c >= 'A' && c <= 'Z' && name[i-1] >= 'a' && name[i-1] <= 'z'
		if start >= 0 && (!alnum || boundary) {
			out = append(out, strings.ToLower(name[start:i]))
			start = -1
		}
		if alnum && start < 0 {
			start = i
		}
	}
	return out
}

// credentialName reports whether a variable, label, flag or key name
// looks like it holds a credential.
func credentialName(name string) bool {
	if name == "PWD" || name == "OLDPWD" {
		return false
	}
	w := splitWords(name)
	if len(w) == 0 || notCredLast[w[len(w)-1]] {
		return false
	}
	for i, x := range w {
		if credWords[x] || i > 0 && credPairs[[2]string{w[i-1], x}] {
			return true
		}
	}
	return false
}

// literal reports whether a value is a literal worth calling a
// credential: not empty, not a shell variable, not a path or placeholder.
func literal(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	switch {
	case len(v) < 4, strings.HasPrefix(v, "$"), strings.HasPrefix(v, "/"), strings.HasPrefix(v, "<"):
		return false
	}
	switch strings.ToLower(v) {
	case "true", "false", "none", "null", "changeme", "required", "optional", "enabled", "disabled":
		return false
	}
	return true
}

// tokenShapes are the shapes of well-known credentials.
var tokenShapes = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----` +
	`|\bgh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}` +
	`|xox[abprs]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b|\b[sr]k_live_[A-Za-z0-9]{20,}` +
	`|\bnpm_[A-Za-z0-9]{36}\b|\bAIza[0-9A-Za-z_-]{35}|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}` +
	`|[a-z][a-z0-9+.-]*://[^/\s:@$]+:[^/\s@$]+@` +
	`|(?i:authorization:\s*(bearer|basic|token)\s+)[A-Za-z0-9._~+/-]{8,}=*` +
	`|"(auth|identitytoken)"\s*:\s*"[A-Za-z0-9+/_.-]{8,}=*"`)

// tokenHints are substrings one of tokenShapes needs: a cheap test first.
var tokenHints = []string{"-----BEGIN", "gh", "glpat-", "xox", "AKIA", "k_live_", "npm_", "AIza", "eyJ", "://",
	"uthorization", "UTHORIZATION", `"auth"`, `"identitytoken"`}

// tokenShaped returns what in s looks like a credential, or "".
func tokenShaped(s string) string {
	for _, h := range tokenHints {
		if strings.Contains(s, h) {
			return tokenShapes.FindString(s)
		}
	}
	return ""
}

// minSecretLen is the shortest secret value searched for: shorter ones
// would match by chance.
const minSecretLen = 6

// collectSecrets records the values of secrets the program gave
// (SecretFromValue): they must not appear anywhere else in the graph.
func (l *linter) collectSecrets(n *llb.Node) {
	op, ok := n.Op.(*llb.ExecOp)
	if !ok {
		return
	}
	add := func(s *llb.Secret) {
		if s != nil && len(s.Value) >= minSecretLen {
			l.secrets[string(s.Value)] = s.Name
		}
	}
	for _, m := range op.Mounts {
		add(m.Secret)
	}
	for _, e := range op.SecretEnv {
		add(e.Secret)
	}
}

// leak says what credential s carries, or "": the value of one of the
// program's secrets, or a token's shape.
func (l *linter) leak(s string) string {
	for v, name := range l.secrets {
		if strings.Contains(s, v) {
			return "the value of secret " + quote(name)
		}
	}
	if t := tokenShaped(s); t != "" {
		return "a credential (" + redact(t) + ")"
	}
	return ""
}

// redact shows the start of a credential only.
func redact(t string) string {
	if len(t) > 8 {
		return t[:6] + "…"
	}
	return t[:len(t)/2] + "…"
}

// credFlag is a credential flag and its value in a command line.
var credFlag = regexp.MustCompile(`(?i)(--?[a-z0-9_-]*(password|passwd|token|secret|api[-_]?key|auth)[a-z0-9_-]*[= ])("[^"]*"|'[^']*'|[^\s"']+)`)

// redact hides the credentials lint knows of in text it shows: secret
// values, token shapes and the values of credential flags.
func (l *linter) redact(s string) string {
	for v := range l.secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	if tokenShaped(s) != "" {
		s = tokenShapes.ReplaceAllString(s, "***")
	}
	return credFlag.ReplaceAllStringFunc(s, func(m string) string {
		sub := credFlag.FindStringSubmatch(m)
		if !literal(sub[3]) || strings.HasSuffix(strings.ToLower(strings.TrimRight(sub[1], "= ")), "file") {
			return m
		}
		return sub[1] + "***"
	})
}
