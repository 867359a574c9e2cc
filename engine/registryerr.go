package engine

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/distribution/reference"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// RegistryAuthError is returned (wrapped) when a registry refuses a push
// or a pull for want of credentials: none were found for it, or it
// rejected the ones found. Use errors.As to get it from the error of
// [Engine.Build] or [Engine.Publish].
type RegistryAuthError struct {
	// Registry is the registry host ("registry.example.com",
	// "127.0.0.1:5000").
	Registry string
	// Ref is the image reference pushed or pulled, when known.
	Ref string
	// Action is "push" (publishing an image or exporting a cache) or
	// "pull" (a base image or an imported cache).
	Action string
	// CredentialsFound reports whether credentials for Registry were
	// found: if so the registry rejected them (wrong, expired, or without
	// the right to Action); if not it wants some.
	CredentialsFound bool
	// LookedIn lists where credentials were looked for: the Docker
	// config file (given with WithDockerConfig, in $DOCKER_CONFIG or the
	// default ~/.docker/config.json) and any credential helper it names.
	LookedIn []string
	// Location is the Go file:line of the From call, for a base image.
	Location string
	// Fix says how to fix it.
	Fix string

	err error
}

// Error says what was refused, whether credentials were missing or
// rejected, where they were looked for and how to fix it.
func (e *RegistryAuthError) Error() string {
	var b strings.Builder
	what := e.Action
	switch {
	case e.Location != "":
		what = fmt.Sprintf("%s: From %s: pulling the base image", e.Location, quote(e.Ref))
	case e.Ref != "":
		what += " " + clip(e.Ref, maxQuoted)
	}
	if e.CredentialsFound {
		fmt.Fprintf(&b, "%s: the registry %s rejected the credentials found for it", what, clip(e.Registry, maxQuoted))
	} else {
		fmt.Fprintf(&b, "%s: the registry %s needs credentials and none were found for it", what, clip(e.Registry, maxQuoted))
	}
	fmt.Fprintf(&b, " (looked in %s): %s", strings.Join(e.LookedIn, "; "), e.Fix)
	if e.err != nil {
		fmt.Fprintf(&b, "\nthe registry said: %s", clip(rootMessage(e.err), maxCause))
	}
	return b.String()
}

// Unwrap returns the engine's error.
func (e *RegistryAuthError) Unwrap() error { return e.err }

// authRefusals are the phrases of registries and of BuildKit's resolver
// that mean "credentials missing or refused".
var authRefusals = []string{
	"401 Unauthorized", "403 Forbidden",
	"no basic auth credentials", "failed to authorize", "authorization failed",
	"insufficient_scope", "authentication required",
	"requested access to the resource is denied", "pull access denied",
}

// registryAuthError recognizes a registry's refusal in err and says
// which registry, which image, push or pull, and whether credentials
// were found for it; nil when err is something else.
func (e *Engine) registryAuthError(err error) *RegistryAuthError {
	msg := err.Error()
	if !slices.ContainsFunc(authRefusals, func(p string) bool { return strings.Contains(msg, p) }) {
		return nil
	}
	ae := &RegistryAuthError{Action: "pull", err: err}
	var re *lllb.ResolveError
	if errors.As(err, &re) {
		ae.Ref, ae.Location = re.Ref, re.Location.String()
	}
	if ref, ok := between(msg, "failed to push ", ": "); ok {
		ae.Action, ae.Ref = "push", ref
	} else if strings.Contains(msg, "export cache") || strings.Contains(msg, "exporting cache") {
		ae.Action = "push"
	}
	if ae.Ref == "" {
		if ref, ok := between(msg, "failed to resolve source metadata for ", ": "); ok {
			ae.Ref = ref
		}
	}
	// The registry API request that was refused names the host asked,
	// which is the right one also when a mirror serves the image.
	host, repoRef := requestTarget(msg)
	ae.Registry = host
	if ae.Ref == "" {
		ae.Ref = repoRef
	}
	if ae.Registry == "" && ae.Ref != "" {
		if n, err := reference.ParseNormalizedNamed(ae.Ref); err == nil {
			ae.Registry = reference.Domain(n)
		}
	}
	if ae.Registry == "" {
		return nil
	}

	cfg, where, cerr := e.dockerConfig()
	ae.LookedIn = where
	var user string
	if cerr != nil {
		ae.LookedIn = []string{cerr.Error()}
	} else {
		var helper string
		ae.CredentialsFound, user, helper = credentialsFor(cfg, ae.Registry)
		if helper != "" {
			ae.LookedIn = append(ae.LookedIn, helper)
		}
	}
	ae.Fix = authFix(ae, user)
	return ae
}

// authFix says how to get past the refusal.
func authFix(ae *RegistryAuthError, user string) string {
	host := clip(ae.Registry, maxQuoted)
	if !ae.CredentialsFound {
		return fmt.Sprintf("log in with `docker login %s` (it writes ~/.docker/config.json, or $DOCKER_CONFIG/config.json), "+
			"or pass engine.WithDockerConfig(dir) with a dir whose config.json holds credentials for %s", host, host)
	}
	account := "the account"
	if user != "" {
		account = "the account " + quote(user)
	}
	right := "pull from it"
	if ae.Action == "push" {
		right = "push to it"
	}
	return fmt.Sprintf("log in again with `docker login %s` (the password or token may be wrong or expired), "+
		"and check that %s may %s", host, account, right)
}

// between returns the text of s after the first start and before the
// next end.
func between(s, start, end string) (string, bool) {
	i := strings.Index(s, start)
	if i < 0 {
		return "", false
	}
	rest := s[i+len(start):]
	j := strings.Index(rest, end)
	if j <= 0 {
		return "", false
	}
	return rest[:j], true
}

// requestTarget finds the registry API request a refusal names ("…
// request to https://host/v2/repo/manifests/tag: 401 Unauthorized") and
// returns its host and the image it is about.
func requestTarget(msg string) (host, ref string) {
	for rest := msg; ; {
		i := strings.Index(rest, "request to ")
		if i < 0 {
			return "", ""
		}
		rest = rest[i+len("request to "):]
		raw, _, _ := strings.Cut(rest, " ")
		u, err := url.Parse(strings.TrimSuffix(raw, ":"))
		if err != nil || u.Host == "" || !strings.HasPrefix(u.Path, "/v2/") {
			continue
		}
		path := strings.TrimPrefix(u.Path, "/v2/")
		for _, kind := range []string{"/manifests/", "/blobs/"} {
			if repo, obj, ok := strings.Cut(path, kind); ok {
				ref = u.Host + "/" + repo
				if kind == "/manifests/" && !strings.Contains(obj, ":") {
					ref += ":" + obj
				}
				break
			}
		}
		return u.Host, ref
	}
}

// rootMessage is the registry's own words in err, without the layers of
// context around them (the From call and the resolver's "resolving …").
func rootMessage(err error) string {
	var re *lllb.ResolveError
	if errors.As(err, &re) && re.Err != nil {
		err = re.Err
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "failed to solve: "); i >= 0 {
		msg = msg[i+len("failed to solve: "):]
	}
	for strings.HasPrefix(msg, "resolving ") {
		_, rest, ok := strings.Cut(msg, `": `)
		if !ok {
			break
		}
		msg = rest
	}
	return msg
}
