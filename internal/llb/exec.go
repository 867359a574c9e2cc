package llb

import (
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// CABundlePath is where exec steps with a proxy find the network's CA
// bundle. It is a path of lading's own, not the system bundle
// (/etc/ssl/certs/ca-certificates.crt): a mount there would stop package
// managers (update-ca-certificates) from rewriting their own file. Tools
// find it through caEnv.
const CABundlePath = "/run/lading/ca-certificates.crt"

// caEnv points common tools at the mounted CA bundle.
var caEnv = []string{"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO", "PIP_CERT", "AWS_CA_BUNDLE", "CARGO_HTTP_CAINFO"}

// CABundleSecretID names the CA bundle, sent like a secret so that it never
// enters the cache key or the image.
const CABundleSecretID = "lading-ca-bundle"

func (c *compiler) exec(n *Node, op *ExecOp) (bkllb.State, error) {
	base, err := c.state(op.Base)
	if err != nil {
		return base, err
	}
	var cfg ocispecs.ImageConfig
	if op.Image != nil {
		b, err := c.resolve(op.Image, n.Loc)
		if err != nil {
			return base, err
		}
		cfg = b.config.Config
	}
	st := base
	env := mergeEnv(cfg.Env, op.Env)
	withCA := op.Proxy != nil && op.Proxy.CABundle != ""
	if withCA {
		for _, name := range caEnv {
			env = SetEnv(env, name, CABundlePath)
		}
	}
	for _, e := range env {
		st = st.AddEnv(e.Name, e.Value)
	}
	wd := op.Workdir
	if wd == "" {
		wd = cfg.WorkingDir
	}
	if wd == "" {
		wd = "/"
	}
	user := op.User
	if user == "" {
		user = cfg.User
	}
	st = st.Dir(wd)
	if user != "" {
		st = st.User(user)
	}
	st = st.Platform(c.platform(op.Platform))

	opts := []bkllb.RunOption{
		bkllb.Args(op.Args),
		c.record(n, stepName(n), op.Args),
	}
	if len(op.ExitCodes) > 0 {
		opts = append(opts, bkllb.ValidExitCodes(op.ExitCodes...))
	}
	if op.NoNetwork {
		st = st.Network(bkllb.NetModeNone)
	}
	if op.TargetEnv {
		t := c.platform(Platform{})
		st = st.AddEnv("TARGETPLATFORM", platforms.Format(t)).
			AddEnv("TARGETOS", t.OS).
			AddEnv("TARGETARCH", t.Architecture).
			AddEnv("TARGETVARIANT", t.Variant)
	}
	if n == c.rerun {
		st = st.AddEnv("LADING_RUN_ID", c.opt.RunID)
	}
	if op.Insecure {
		c.insecure = true
		opts = append(opts, bkllb.Security(bkllb.SecurityModeInsecure))
	}
	if px := op.Proxy; !px.Empty() {
		if px.HTTP != "" || px.HTTPS != "" || px.FTP != "" || px.NoProxy != "" || px.All != "" {
			c.proxy = true
			opts = append(opts, bkllb.WithProxy(bkllb.ProxyEnv{HTTPProxy: px.HTTP, HTTPSProxy: px.HTTPS, FTPProxy: px.FTP, NoProxy: px.NoProxy, AllProxy: px.All}))
		}
		if withCA {
			c.secrets[CABundleSecretID] = SecretSource{ID: CABundleSecretID, Name: "CA bundle", File: px.CABundle, Public: true}
			opts = append(opts, bkllb.AddSecret(CABundlePath, bkllb.SecretID(CABundleSecretID), bkllb.SecretFileOpt(0, 0, 0o444)))
		}
	}
	for _, m := range op.Mounts {
		o, err := c.mount(m)
		if err != nil {
			return base, err
		}
		opts = append(opts, o)
	}
	for _, se := range op.SecretEnv {
		id, err := c.addSecret(se.Secret, n.Loc)
		if err != nil {
			return base, err
		}
		opts = append(opts, bkllb.AddSecretWithDest(id, nil, bkllb.SecretAsEnvName(se.Name)))
	}
	return st.Run(opts...).Root(), nil
}

func (c *compiler) addSecret(s *Secret, loc Location) (string, error) {
	id := s.Name
	src := SecretSource{ID: id, Name: s.Name, Env: s.Env, File: s.File, Value: s.Value}
	if prev, ok := c.secrets[id]; ok && (prev.Env != src.Env || prev.File != src.File || string(prev.Value) != string(src.Value)) {
		return "", Invalid(loc, "secret", "name", "two different secrets are named "+quoteBounded(id), "give each secret its own name")
	}
	c.secrets[id] = src
	return id, nil
}

func (c *compiler) mount(m Mount) (bkllb.RunOption, error) {
	switch m.Kind {
	case MountCache:
		c.caches[m.CacheID] = struct{}{}
		opts := []bkllb.MountOption{bkllb.AsPersistentCacheDir(m.CacheID, bkllb.CacheMountSharingMode(m.Sharing))}
		src := bkllb.Scratch()
		if m.Owner != nil {
			src = src.File(bkllb.Mkdir("/cache", 0o755, chown(m.Owner)), bkllb.WithCustomName("cache owner "+m.CacheID))
			opts = append(opts, bkllb.SourcePath("/cache"))
		}
		return bkllb.AddMount(m.Target, src, opts...), nil
	case MountTemp:
		return bkllb.AddMount(m.Target, bkllb.Scratch(), bkllb.Tmpfs()), nil
	case MountSecret:
		id, err := c.addSecret(m.Secret, m.Loc)
		if err != nil {
			return nil, err
		}
		mode := int(m.Mode)
		if mode == 0 {
			mode = 0o400
		}
		uid, gid := 0, 0
		if m.Owner != nil {
			uid, gid = m.Owner.UID, m.Owner.GID
		}
		return bkllb.AddSecret(m.Target, bkllb.SecretID(id), bkllb.SecretFileOpt(uid, gid, mode)), nil
	case MountSSH:
		c.ssh[m.SSHID] = struct{}{}
		mode := int(m.Mode)
		if mode == 0 {
			mode = 0o600
		}
		return bkllb.AddSSHSocket(bkllb.SSHID(m.SSHID), bkllb.SSHSocketOpt(m.Target, 0, 0, mode)), nil
	case MountDirectory, MountFile:
		src, err := c.state(m.Source)
		if err != nil {
			return nil, err
		}
		return bkllb.AddMount(m.Target, src, bkllb.SourcePath(m.Path), bkllb.Readonly), nil
	}
	return nil, Invalid(m.Loc, "mount", "kind", "unknown mount kind", "use the sdk's WithMounted* methods")
}

func mergeEnv(base []string, set []EnvVar) []EnvVar {
	out := make([]EnvVar, 0, len(base)+len(set))
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, EnvVar{k, v})
	}
	for _, e := range set {
		replaced := false
		for i := range out {
			if out[i].Name == e.Name {
				out[i].Value, replaced = e.Value, true
				break
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}

// quoteBounded quotes s, cut to its first 200 bytes: an error never carries
// a huge argument whole.
func quoteBounded(s string) string {
	const max = 200
	if len(s) <= max {
		return `"` + s + `"`
	}
	return `"` + strings.ToValidUTF8(s[:max], "") + `…" (` + strconv.Itoa(len(s)) + " bytes)"
}
