package lint

import (
	"bufio"
	"fmt"
	"path"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// caDirs are where distributions keep trusted CA certificates.
var caDirs = []string{"/usr/local/share/ca-certificates", "/usr/share/ca-certificates", "/etc/ssl/certs",
	"/etc/pki/ca-trust/source/anchors", "/etc/pki/tls/certs", "/etc/ca-certificates", "/etc/pki/trust/anchors"}

// caFile reports whether a path in the image is a CA certificate or
// bundle.
func caFile(p string) bool {
	for _, d := range caDirs {
		if within(p, d) {
			return true
		}
	}
	base := strings.ToLower(path.Base(p))
	return strings.Contains(base, "ca") && (strings.HasSuffix(base, ".crt") || strings.HasSuffix(base, ".pem") || strings.Contains(base, "bundle"))
}

// checkCopy: ca-bundle, for host files copied to a CA path of the image.
// Copying another stage's bundle (the distribution's, for a scratch
// image) is fine.
func (l *linter) checkCopy(n *llb.Node, op *llb.CopyOp) {
	if !l.layer[n] || op.Src == nil {
		return
	}
	if _, host := origin(op.Src).Op.(*llb.LocalOp); !host {
		return
	}
	if caFile(op.DestPath) || caFile(op.SrcPath) {
		l.report(n, finding{rule: CABundle, sev: Warning, subject: n.Loc.String(),
			msg: "a CA certificate from the host (" + op.SrcPath + ") is copied into the image at " + op.DestPath + ": the build network's CA ships with the image",
			fix: "give it to RUN steps only: WithProxy(sdk.Proxy{…, CABundle: path}); if the runtime must trust this CA, silence with the reason"})
	}
}

// checkNewFile: large-file, secret-file and ca-bundle.
func (l *linter) checkNewFile(n *llb.Node, op *llb.MkfileOp) {
	if len(op.Data) > l.s.largeFile {
		l.report(n, finding{rule: LargeFile, sev: Warning, subject: n.Loc.String(),
			msg: fmt.Sprintf("WithNewFile writes %d bytes (over the %d-byte threshold): the contents travel inside the build definition on every build", len(op.Data), l.s.largeFile),
			fix: "keep the file on the host and copy it with WithFile(path, sdk.Host(dir).File(name)), or raise lint.LargeFileLimit"})
	}
	data := string(op.Data)
	if what := l.fileLeak(op.Path, data); what != "" {
		l.report(n, finding{rule: SecretFile, sev: Error, subject: n.Loc.String(),
			msg: "WithNewFile " + op.Path + " holds " + what + ", in the build definition and in a layer",
			fix: "mount the file as a secret for the steps that need it: WithMountedSecret(" + quote(op.Path) + ", sdk.SecretFromValue(…))"})
	}
	if l.layer[n] && (strings.Contains(data, "-----BEGIN CERTIFICATE-----") && caFile(op.Path)) {
		l.report(n, finding{rule: CABundle, sev: Warning, subject: n.Loc.String(),
			msg: "WithNewFile writes a CA certificate into the image at " + op.Path,
			fix: "give the build network's CA to RUN steps only with WithProxy's CABundle; if the runtime must trust it, silence with the reason"})
	}
}

// maxScan bounds the bytes of a new file scanned for credential settings.
const maxScan = 1 << 20

// fileLeak says what credential a new file holds, or "": a secret's value,
// a token's shape, or a setting such as password=… or "_authToken": "…".
func (l *linter) fileLeak(p, data string) string {
	if what := l.leak(data); what != "" {
		return what
	}
	if len(data) > maxScan {
		data = data[:maxScan]
	}
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(nil, maxScan)
	for sc.Scan() {
		if key, ok := credentialSetting(sc.Text()); ok {
			return "a credential setting (" + quote(key) + ")"
		}
	}
	return ""
}

// credentialSetting reads "key = value", "key: value" or "key value"
// (netrc's password) and reports a credential-named key with a literal.
// An .npmrc line "//registry/:_authToken=…" has the key after its last
// colon.
func credentialSetting(line string) (string, bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == ';' {
		return "", false
	}
	i := strings.IndexAny(line, "=:")
	if strings.HasPrefix(line, "//") {
		i = strings.IndexByte(line, '=')
	}
	if i <= 0 {
		if f := strings.Fields(line); len(f) >= 2 && f[len(f)-2] == "password" && literal(f[len(f)-1]) {
			return "password", true
		}
		return "", false
	}
	key := strings.Trim(strings.TrimSpace(line[:i]), `"'`)
	if j := strings.LastIndexAny(key, ":/ "); j >= 0 {
		key = key[j+1:]
	}
	val := strings.TrimRight(strings.TrimSpace(line[i+1:]), ",")
	if credentialName(key) && literal(val) {
		return key, true
	}
	return "", false
}
