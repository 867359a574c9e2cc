package lint

import (
	"net/url"

	"github.com/ladingbuild/lading/internal/llb"
)

// mask replaces a credential in a URL lint shows.
const mask = "xxxxx"

// maskURL is u with its user and password (when it has a password) and
// the values of query parameters named like credentials masked; u itself
// when it does not parse.
func maskURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	if _, ok := pu.User.Password(); ok {
		pu.User = url.User(mask) // not user:mask, which still reads as a password
	}
	if q := pu.Query(); len(q) > 0 {
		changed := false
		for k, vs := range q {
			for i, v := range vs {
				if credentialName(k) && literal(v) {
					vs[i], changed = mask, true
				}
			}
		}
		if changed {
			pu.RawQuery = q.Encode()
		}
	}
	return pu.String()
}

// showURL is a source URL as findings show it: credentials in it masked,
// and the secrets and token shapes lint knows of hidden.
func (l *linter) showURL(u string) string { return l.redact(maskURL(u)) }

// checkSourceURL: secret-arg for a credential in the URL of a Git source
// or a download (a password, a query parameter named like a credential
// with a literal value, a token's shape, a secret's value). The URL is in
// the build definition, progress output and provenance.
func (l *linter) checkSourceURL(n *llb.Node, what, u string) {
	found := ""
	if pu, err := url.Parse(u); err == nil {
		if _, ok := pu.User.Password(); ok {
			found = "a password"
		}
		for k, vs := range pu.Query() {
			for _, v := range vs {
				if found == "" && credentialName(k) && literal(v) {
					found = "a credential (query parameter " + quote(k) + ")"
				}
			}
		}
	}
	if found == "" {
		found = l.leak(u)
	}
	if found == "" {
		return
	}
	l.report(n, finding{rule: SecretArg, sev: Error, subject: n.Loc.String(),
		msg: "the URL of " + what + " " + quote(l.showURL(u)) + " holds " + found + ", visible in the build definition, progress output and provenance",
		fix: "take the credential out of the URL: fetch the file in a step that reads it from WithMountedSecret (curl -H @/run/secrets/…) and checks its checksum, or serve it where no credential is needed"})
}
