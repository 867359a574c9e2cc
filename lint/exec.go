package lint

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// checkExec checks an exec step: its env, its arguments, its package
// managers, its downloads and its cache mounts.
func (l *linter) checkExec(n *llb.Node, op *llb.ExecOp) {
	l.checkStepEnv(n, op)
	cmds := commands(op.Args)
	l.checkArgs(n, op, cmds)
	l.checkPackages(n, op, cmds)
	l.checkDownloads(n, op, cmds)
	l.checkSharing(n, op)
}

// checkArgs: secret-arg, for credentials in the arguments and for
// --password=VALUE style flags with a literal value.
func (l *linter) checkArgs(n *llb.Node, op *llb.ExecOp, cmds []command) {
	for _, a := range op.Args {
		if what := l.leak(a); what != "" {
			l.report(n, finding{rule: SecretArg, sev: Error, subject: n.Loc.String(),
				msg: "the command line holds " + what + ", visible in the build definition, progress output and provenance",
				fix: "mount the secret with WithMountedSecret or WithSecretEnv and read it in the step"})
			return
		}
	}
	for _, c := range cmds {
		if pw, ok := loginPassword(c); ok && literal(pw) {
			l.report(n, finding{rule: SecretArg, sev: Error, subject: n.Loc.String(),
				msg: c.name() + " login is given -p with a literal password on its command line",
				fix: "log in with --password-stdin from a secret: WithMountedSecret(\"/run/secrets/pw\", …) and " + c.name() + " login --password-stdin < /run/secrets/pw"})
			return
		}
		for i, w := range c.words {
			name, val, eq := strings.Cut(w, "=")
			if !strings.HasPrefix(name, "-") || !credentialName(strings.TrimLeft(name, "-")) {
				continue
			}
			if !eq && i+1 < len(c.words) {
				val = c.words[i+1]
			}
			if literal(val) && !strings.HasPrefix(val, "-") {
				l.report(n, finding{rule: SecretArg, sev: Error, subject: n.Loc.String(),
					msg: c.name() + " is given " + name + " with a literal value on its command line",
					fix: "read the credential from a secret: WithSecretEnv(\"TOKEN\", …) and " + name + "=\"$TOKEN\" in a shell step, or the tool's -file/-stdin flag with WithMountedSecret"})
				return
			}
		}
	}
}

// registryClients are the tools whose "login -p VALUE" takes a password.
var registryClients = map[string]bool{"docker": true, "podman": true, "buildah": true, "skopeo": true, "nerdctl": true, "helm": true, "oras": true, "crane": true}

// loginPassword returns the value of -p in "docker login -p VALUE" (and
// the like), if the command is one.
func loginPassword(c command) (string, bool) {
	if !registryClients[c.name()] || !slices.Contains(c.words, "login") {
		return "", false
	}
	for i, w := range c.words {
		if w == "-p" && i+1 < len(c.words) {
			return c.words[i+1], true
		}
		if v, ok := strings.CutPrefix(w, "-p="); ok {
			return v, true
		}
	}
	return "", false
}

// pipeShapes are downloads run as code: curl … | sh, sh <(curl …),
// sh -c "$(curl …)", eval "$(wget …)".
// A pipeline may pass the script through other stages first (curl … | tee
// log | sh); "||" is not a pipe.
var pipeShapes = regexp.MustCompile(`\b(curl|wget)\b[^|;&\n]*(\|[^|;&\n]+)*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+)?(\S*/)?(ba|z|da|k|a)?sh\b` +
	`|\b(curl|wget)\b[^|;&\n]*(\|[^|;&\n]+)*\|\s*(sudo\s+)?(\S*/)?(python[0-9.]*|perl|ruby|node)\b` +
	`|\b(ba|z|k)?sh\s+<\(\s*(curl|wget)\b|\b((ba|z|k)?sh\s+-c|eval)\s+["']?\$\(\s*(curl|wget)\b|\bsource\s+<\(\s*(curl|wget)\b`)

// verifiers are programs that check what was downloaded.
var verifiers = map[string]bool{"sha256sum": true, "sha512sum": true, "sha1sum": true, "shasum": true, "b2sum": true, "md5sum": true, "gpgv": true, "minisign": true, "cosign": true, "gpg": true, "openssl": true, "sha384sum": true}

// checkDownloads: pipe-to-shell and download-unverified.
func (l *linter) checkDownloads(n *llb.Node, op *llb.ExecOp, cmds []command) {
	line := strings.Join(op.Args, " ")
	if !strings.Contains(line, "curl") && !strings.Contains(line, "wget") {
		return
	}
	if m := pipeShapes.FindString(line); m != "" {
		l.report(n, finding{rule: PipeToShell, sev: Error, subject: n.Loc.String(),
			msg: "the step runs a downloaded script without checking it: " + quote(l.redact(m)),
			fix: "download it with sdk.HTTP(url, \"sha256:…\") and run the file, or check it with sha256sum -c before running it"})
		return
	}
	var fetched string
	for _, c := range cmds {
		switch c.name() {
		case "curl", "wget":
			if u := remoteURL(c.words[1:]); u != "" && fetched == "" {
				fetched = u
			}
		}
		if verifiers[c.name()] {
			return
		}
	}
	if fetched != "" {
		l.report(n, finding{rule: DownloadUnverified, sev: Warning, subject: n.Loc.String(),
			msg: "the step downloads " + quote(l.redact(fetched)) + " and checks no checksum",
			fix: "use sdk.HTTP(url, \"sha256:…\"), or check the file in the step: echo \"<sha256>  file\" | sha256sum -c"})
	}
}

// remoteURL returns the first http(s) URL of words whose host is not
// this machine's loopback, or "".
func remoteURL(words []string) string {
	for _, w := range words {
		if !strings.HasPrefix(w, "http://") && !strings.HasPrefix(w, "https://") {
			continue
		}
		u, err := url.Parse(w)
		if err != nil {
			continue
		}
		switch h := u.Hostname(); {
		case h == "localhost", strings.HasPrefix(h, "127."), h == "::1", h == "":
			continue
		}
		return w
	}
	return ""
}

// lockedDirs are the directories apt and dpkg lock.
var lockedDirs = []string{"/var/cache/apt", "/var/lib/apt", "/var/lib/dpkg"}

// checkSharing: cache-sharing, once per mount.
func (l *linter) checkSharing(n *llb.Node, op *llb.ExecOp) {
	for _, m := range op.Mounts {
		if m.Kind != llb.MountCache || m.Sharing != llb.SharingShared {
			continue
		}
		for _, d := range lockedDirs {
			if within(m.Target, d) || within(d, m.Target) {
				loc := m.Loc
				if loc.File == "" {
					loc = n.Loc
				}
				l.add(&l.steps, n, loc, "WithMountedCache "+m.Target, finding{rule: CacheSharing, sev: Error, subject: m.Loc.String() + m.Target,
					msg: "cache volume " + quote(m.CacheID) + " at " + m.Target + " is Shared, but apt and dpkg lock it: concurrent builds fail with \"Could not get lock\" or corrupt it",
					fix: "mount it with sdk.Locked: WithMountedCache(" + quote(m.Target) + ", sdk.CacheVolume(" + quote(m.CacheID) + "), sdk.Locked)"})
				break
			}
		}
	}
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}
