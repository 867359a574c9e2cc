package lint

import (
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// proxyVars are the proxy settings WithProxy sets for RUN steps only.
var proxyVars = map[string]bool{"http_proxy": true, "https_proxy": true, "ftp_proxy": true, "no_proxy": true, "all_proxy": true}

// proxyVar says whether e sets a proxy: a proxy variable with a value (an
// empty one clears the base image's, and carries no network's proxy).
func proxyVar(e llb.EnvVar) bool {
	return proxyVars[strings.ToLower(e.Name)] && strings.TrimSpace(e.Value) != ""
}

// caVars point tools at a CA bundle.
var caVars = map[string]bool{"SSL_CERT_FILE": true, "NODE_EXTRA_CA_CERTS": true, "REQUESTS_CA_BUNDLE": true, "CURL_CA_BUNDLE": true, "GIT_SSL_CAINFO": true, "PIP_CERT": true}

// checkImageEnv checks one variable of the image config: secret-env,
// proxy-env and ca-bundle.
func (l *linter) checkImageEnv(c *llb.Container, e llb.EnvVar) {
	if proxyVar(e) {
		l.reportImage(c, finding{rule: ProxyEnv, sev: Error, subject: e.Name,
			msg: e.Name + " is set with WithEnv, so it is written into the image config: every container of the image uses this network's proxy",
			fix: "pass the proxy with WithProxy(sdk.ProxyFromEnv()): RUN steps see it, the image does not"})
	}
	if caVars[e.Name] {
		l.reportImage(c, finding{rule: CABundle, sev: Warning, subject: "env " + e.Name,
			msg: e.Name + " in the image config points the image's programs at a CA bundle of its own",
			fix: "for the build network's CA use WithProxy's CABundle (RUN steps only); if the runtime really needs this CA, silence with a reason"})
	}
	if what := l.envLeak(e); what != "" {
		l.reportImage(c, finding{rule: SecretEnv, sev: Error, subject: e.Name,
			msg: e.Name + " in the image config holds " + what + ": anyone who pulls the image can read it",
			fix: "give the step the secret with WithSecretEnv or WithMountedSecret, and remove it from WithEnv"})
	}
}

// checkStepEnv checks the env of an exec step: a variable the image
// config also has is reported once, on the image.
func (l *linter) checkStepEnv(n *llb.Node, op *llb.ExecOp) {
	for _, e := range op.Env {
		key := e.Name + "=" + e.Value
		if l.clean[key] {
			continue
		}
		found := false
		if proxyVar(e) {
			found = true
			l.report(n, finding{rule: ProxyEnv, sev: Warning, subject: e.Name,
				msg: e.Name + " is set with WithEnv or sdk.Env: it is part of the step's cache key and of the build definition, so a new proxy rebuilds everything",
				fix: "pass the proxy with WithProxy(sdk.ProxyFromEnv()): never in the cache key, the image or its history"})
		}
		if what := l.envLeak(e); what != "" {
			found = true
			l.report(n, finding{rule: SecretEnv, sev: Error, subject: e.Name,
				msg: e.Name + " holds " + what + ", visible in the build definition, the cache key and the daemon's provenance record",
				fix: "use WithSecretEnv(" + quote(e.Name) + ", sdk.SecretFromEnv(…)): the value reaches the step and nothing else"})
		}
		if !found {
			l.clean[key] = true
		}
	}
}

// envLeak says what credential a variable holds, or "".
func (l *linter) envLeak(e llb.EnvVar) string {
	if what := l.leak(e.Value); what != "" {
		return what
	}
	if credentialName(e.Name) && literal(e.Value) {
		return "a credential (by its name)"
	}
	return ""
}

// checkLabels: secret-label.
func (l *linter) checkLabels(c *llb.Container, kind string, labels map[string]string) {
	for _, name := range sortedKeys(labels) {
		v := labels[name]
		what := l.leak(v)
		if what == "" && credentialName(name) && literal(v) {
			what = "a credential (by its name)"
		}
		if what != "" {
			l.reportImage(c, finding{rule: SecretLabel, sev: Error, subject: kind + " " + name,
				msg: "the image " + kind + " " + quote(name) + " holds " + what + "; " + kind + "s are public metadata of the image",
				fix: "remove it; a step that needs the credential gets it with WithSecretEnv or WithMountedSecret"})
		}
	}
}
