package lint

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"

	"github.com/ladingbuild/lading/internal/llb"
)

func quote(s string) string { return strconv.Quote(clip(s, 80)) }

// checkBase: base-latest and base-unpinned.
func (l *linter) checkBase(n *llb.Node, op *llb.ImageOp) {
	named, err := reference.ParseNormalizedNamed(op.Given)
	if err != nil {
		return // sdk refuses it already
	}
	if _, ok := named.(reference.Digested); ok {
		return
	}
	if l.s.isPinned(Source{Kind: ImageSource, Ref: op.Ref, Given: op.Given}) {
		return
	}
	tagged, ok := named.(reference.Tagged)
	if !ok || tagged.Tag() == "latest" {
		l.report(n, finding{rule: BaseLatest, sev: Error, subject: op.Ref,
			msg: "base image " + quote(op.Given) + " means the latest tag, which moves",
			fix: "name a version and pin its digest, e.g. \"" + reference.FamiliarName(named) + ":1.2.3@sha256:…\" (or record it in lading.lock and pass lint.WithLock)"})
		return
	}
	l.report(n, finding{rule: BaseUnpinned, sev: Warning, subject: op.Ref,
		msg: "base image " + quote(op.Given) + " is pinned by tag only; the tag can be moved to another image",
		fix: "add the digest: \"" + op.Given + "@sha256:…\", or record it in lading.lock (`lading lock update`) and pass lint.WithLock"})
}

var commitID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// checkGit: git-unpinned.
func (l *linter) checkGit(n *llb.Node, op *llb.GitOp) {
	l.checkSourceURL(n, "Git source", op.URL)
	ref := op.URL + "#" + op.Ref
	if commitID.MatchString(op.Ref) || l.s.isPinned(Source{Kind: GitSource, Ref: ref, Given: ref}) {
		return
	}
	shown := l.showURL(op.URL)
	l.report(n, finding{rule: GitUnpinned, sev: Warning, subject: ref,
		msg: "Git source " + quote(shown) + " at " + quote(op.Ref) + ", a branch or tag that can move",
		fix: "check out a full commit id, or record it in lading.lock and pass lint.WithLock, or lint.Pinned(\"" + clip(shown+"#"+op.Ref, 60) + "\")"})
}

// checkHTTP: download-unverified for an sdk.HTTP download without a
// checksum that no lock records: it fetches whatever the server sends.
func (l *linter) checkHTTP(n *llb.Node, op *llb.HTTPOp) {
	l.checkSourceURL(n, "download", op.URL)
	if op.Checksum != "" || l.s.isPinned(Source{Kind: HTTPSource, Ref: op.URL, Given: op.URL}) {
		return
	}
	l.report(n, finding{rule: DownloadUnverified, sev: Warning, subject: op.URL,
		msg: "HTTP download of " + quote(l.showURL(op.URL)) + " has no checksum: it builds with whatever the server sends",
		fix: "record its checksum in lading.lock (`lading lock update`) and lint with the lock (lint.WithLock), or pass the file's \"sha256:…\" digest to sdk.HTTP"})
}

// checkImage checks the image config of the value: user, entrypoint, env,
// labels and annotations.
func (l *linter) checkImage(c *llb.Container) {
	l.checkUser(c)
	l.checkInit(c)
	for _, e := range c.Env {
		l.checkImageEnv(c, e)
	}
	l.checkLabels(c, "label", c.Settings().Labels)
	l.checkLabels(c, "annotation", c.Settings().Annotations)
}

// checkUser: root-user.
func (l *linter) checkUser(c *llb.Container) {
	u := c.User
	name, _, _ := strings.Cut(u, ":")
	switch {
	case name == "root" || rootID(name):
		l.reportImageAt(c, c.UserLoc, finding{rule: RootUser, sev: Error, subject: "user",
			msg: "the image runs as " + quote(u) + " (WithUser)", fix: "run as an unprivileged user: WithUser(\"10001:10001\"), and give it the files it writes with sdk.Owner"})
	case u == "" && c.Image == nil:
		l.reportImage(c, finding{rule: RootUser, sev: Error, subject: "user",
			msg: "the image starts from scratch and sets no user, so it runs as uid 0", fix: "set WithUser(\"10001:10001\") (a numeric uid needs no /etc/passwd)"})
	case u == "":
		l.reportImage(c, finding{rule: RootUser, sev: Warning, subject: "user",
			msg: "the image sets no user, so it runs as the user of base image " + quote(c.Image.Given) + ", which lint cannot see offline (most base images run as root)",
			fix: "set WithUser to an unprivileged uid; if the base image's own user is not root, say so with lint.Allow(image, lint.RootUser, reason)"})
	}
}

// rootID says whether a numeric user ("0", "00") is uid 0, as the runtime
// reads it.
func rootID(name string) bool {
	return name != "" && strings.Trim(name, "0") == ""
}

// initSystems are programs that supervise other processes, as PID 1 does
// on a machine. Minimal inits that only reap and forward signals (tini,
// dumb-init, catatonit) are fine and are looked through.
var initSystems = map[string]bool{
	"systemd": true, "init": true, "supervisord": true, "supervisor": true, "s6-svscan": true,
	"s6-supervise": true, "runsvdir": true, "runit": true, "runit-init": true, "runsv": true,
	"openrc": true, "openrc-init": true, "upstart": true, "monit": true, "circusd": true,
}

var minimalInits = map[string]bool{"tini": true, "dumb-init": true, "catatonit": true, "docker-init": true, "tini-static": true}

// checkInit: init-entrypoint, over the entrypoint and default args the
// program sets (the base image's are not known offline).
func (l *linter) checkInit(c *llb.Container) {
	var argv []string
	if c.Settings().SetEntry {
		argv = append(argv, c.Settings().Entrypoint...)
	}
	if c.Settings().SetCmd && (len(argv) == 0 || minimalInits[path.Base(argv[0])]) {
		argv = append(argv, c.Settings().Cmd...)
	}
	if prog := initIn(argv); prog != "" {
		at := c.Settings().EntrypointLoc
		if !c.Settings().SetEntry || minimalInits[path.Base(argv[0])] && c.Settings().SetCmd {
			at = c.Settings().CmdLoc
		}
		l.reportImageAt(c, at, finding{rule: InitEntrypoint, sev: Error, subject: "entrypoint",
			msg: "the image's process is " + quote(prog) + ", an init system or supervisor: an image is one process, not a VM",
			fix: "run the service itself as the entrypoint (one image per process), with tini or sdk's runtime for signals; let the orchestrator restart it"})
	}
}

// initIn returns the init system argv runs, looking through minimal inits
// and shell scripts, or "".
func initIn(argv []string) string {
	for _, cmd := range commands(argv) {
		words := cmd.words
		stripped := false
		for len(words) > 0 && minimalInits[path.Base(words[0])] {
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0], "-") {
				words = words[1:]
			}
			stripped = true
		}
		if len(words) > 0 && initSystems[path.Base(words[0])] {
			return words[0]
		}
		// tini -- sh -c "supervisord": the script behind the minimal init.
		if _, ok := script(words); ok && stripped {
			if prog := initIn(words); prog != "" {
				return prog
			}
		}
	}
	return ""
}
