package llb

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/solver/pb"
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

// exec writes an exec op: what client/llb's State.Run marshals for a state
// that has the step's env, workdir, user, platform, network and security
// set, with its mounts, secrets and SSH sockets.
func (c *compiler) exec(n *Node, op *ExecOp) (*vertex, error) {
	base := c.vertex(op.Base)
	var cfg ocispecs.ImageConfig
	if op.Image != nil {
		b, err := c.resolve(op.Image, n.Loc)
		if err != nil {
			return nil, err
		}
		cfg = b.config.Config
	}
	if len(op.Args) == 0 {
		// Validate rejects this first; client/llb would too, at Marshal.
		return nil, Invalid(n.Loc, "exec", "args", "no command given", `pass the program and its arguments, e.g. []string{"go", "build", "./..."}`)
	}
	env := mergeEnv(cfg.Env, op.Env)
	withCA := op.Proxy != nil && op.Proxy.CABundle != ""
	if withCA {
		for _, name := range caEnv {
			env = SetEnv(env, name, CABundlePath)
		}
	}
	if op.TargetEnv {
		t := c.platform(Platform{})
		env = append(env,
			EnvVar{"TARGETPLATFORM", platforms.Format(t)},
			EnvVar{"TARGETOS", t.OS},
			EnvVar{"TARGETARCH", t.Architecture},
			EnvVar{"TARGETVARIANT", t.Variant})
	}
	if n == c.rerun {
		env = append(env, EnvVar{"LADING_RUN_ID", c.opt.RunID})
	}
	wd := op.Workdir
	if wd == "" {
		wd = cfg.WorkingDir
	}
	if wd == "" {
		wd = "/"
	}
	if !path.IsAbs(wd) {
		wd = path.Join("/", wd)
	}
	user := op.User
	if user == "" {
		user = cfg.User
	}
	x := &c.xs
	meta := &x.meta
	*meta = pb.Meta{Args: op.Args, Cwd: wd, User: user, RemoveMountStubsRecursive: true}
	peo := &x.exec
	*peo = pb.ExecOp{Meta: meta}
	caps := capExecMetaBase
	if n == c.rerun && len(op.ExitCodes) > 0 {
		// A step whose output is read exits with whatever code it
		// likes, which BuildKit then reports; the engine checks it
		// against the accepted ones (Program.FinalExitCodes).
		c.finalCodes = slices.Clone(op.ExitCodes)
	} else if len(op.ExitCodes) > 0 {
		meta.ValidExitCodes = x.codes[:0]
		for _, code := range op.ExitCodes {
			meta.ValidExitCodes = append(meta.ValidExitCodes, int32(code))
		}
		x.codes = meta.ValidExitCodes
		caps |= capExecValidExitCode
	}
	hosts, err := c.extraHosts(op)
	if err != nil {
		return nil, err
	}
	meta.ExtraHosts = hosts
	if op.NoNetwork {
		peo.Network = pb.NetMode_NONE
		caps |= capExecMetaNetwork
	}
	if op.Insecure {
		c.insecure = true
		peo.Security = pb.SecurityMode_INSECURE
		caps |= capExecMetaSecurity
	}

	// Secrets in the order client/llb would list them: the CA bundle,
	// then secret mounts, then secret env; SSH sockets after them.
	var secrets, sockets []*pb.Mount
	if px := op.Proxy; !px.Empty() {
		if px.HTTP != "" || px.HTTPS != "" || px.FTP != "" || px.NoProxy != "" || px.All != "" {
			c.proxy = true
			meta.ProxyEnv = &pb.ProxyEnv{HttpProxy: px.HTTP, HttpsProxy: px.HTTPS, FtpProxy: px.FTP, NoProxy: px.NoProxy, AllProxy: px.All}
			caps |= capExecMetaProxy
		}
		if withCA {
			c.secrets[CABundleSecretID] = SecretSource{ID: CABundleSecretID, Name: "CA bundle", File: px.CABundle, Public: true}
			secrets = append(secrets, secretMount(CABundlePath, CABundleSecretID, 0, 0, 0o444))
		}
	}
	mounts := append(x.mounts[:0], execMount{target: pb.RootMount, src: base, output: true})
	for i := range op.Mounts {
		m := &op.Mounts[i]
		switch m.Kind {
		case MountCache:
			c.caches[m.CacheID] = struct{}{}
			em := execMount{target: m.Target, cacheID: m.CacheID, sharing: pb.CacheSharingOpt(m.Sharing)}
			if m.Owner != nil {
				src, err := c.cacheOwner(m)
				if err != nil {
					return nil, err
				}
				em.src, em.selector = src, "/cache"
			}
			c.noteVolume(base, m, em.src)
			mounts = append(mounts, em)
		case MountTemp:
			mounts = append(mounts, execMount{target: m.Target, tmpfs: true})
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
			secrets = append(secrets, secretMount(m.Target, id, uid, gid, mode))
		case MountSSH:
			c.ssh[m.SSHID] = struct{}{}
			mode := int(m.Mode)
			if mode == 0 {
				mode = 0o600
			}
			target := m.Target
			if target == "" {
				target = "/run/buildkit/ssh_agent." + strconv.Itoa(len(sockets))
			}
			sockets = append(sockets, &pb.Mount{
				Input: int64(pb.Empty), Dest: target, MountType: pb.MountType_SSH,
				SSHOpt: &pb.SSHOpt{ID: m.SSHID, Mode: uint32(mode)},
			})
		case MountDirectory, MountFile:
			mounts = append(mounts, execMount{target: m.Target, src: c.vertex(m.Source), selector: m.Path, readonly: true})
		default:
			return nil, Invalid(m.Loc, "mount", "kind", "unknown mount kind", "use the sdk's WithMounted* methods")
		}
	}
	for _, se := range op.SecretEnv {
		id, err := c.addSecret(se.Secret, n.Loc)
		if err != nil {
			return nil, err
		}
		peo.Secretenv = append(peo.Secretenv, &pb.SecretEnv{ID: id, Name: se.Name})
	}
	if len(secrets) > 0 || len(peo.Secretenv) > 0 {
		caps |= capExecMountSecret
	}
	if len(peo.Secretenv) > 0 {
		caps |= capExecSecretEnv
	}
	if len(sockets) > 0 {
		caps |= capExecMountSSH
		env = setDefaultEnv(env, "SSH_AUTH_SOCK", sockets[0].Dest)
	}
	x.env = envList(x.env[:0], env)
	meta.Env = x.env

	x.mounts = mounts
	slices.SortFunc(mounts, func(a, b execMount) int { return strings.Compare(a.target, b.target) })
	pop := &x.op
	*pop = pb.Op{Inputs: x.inputs[:0], Platform: c.execPlatform(op.Platform), Constraints: &x.constraints}
	deps := x.deps[:0]
	// Mounts and their cache options are filled in place; the slices
	// have room for all of them, so pointers into them stay valid.
	if cap(x.pms) < len(mounts) {
		x.pms = make([]pb.Mount, 0, len(mounts)+4)
		x.caches = make([]pb.CacheOpt, 0, len(mounts)+4)
	}
	pms, cacheOpts := x.pms[:0], x.caches[:0]
	ptrs := x.ptrs[:0]
	outputs := int64(0)
	c.resetInputs() // any cache owner op above is marshalled already
	for i := range mounts {
		m := &mounts[i]
		pms = append(pms, pb.Mount{Dest: m.target, Readonly: m.readonly, Selector: m.selector, Output: int64(pb.SkipOutput)})
		pm := &pms[len(pms)-1]
		pop.Inputs, pm.Input = c.addInput(pop.Inputs, m.src)
		deps = addDep(deps, m.src)
		if m.output {
			pm.Output = outputs
			outputs++
		}
		if m.selector != "" {
			caps |= capExecMountSelector
		}
		switch {
		case m.cacheID != "":
			pm.MountType = pb.MountType_CACHE
			cacheOpts = append(cacheOpts, pb.CacheOpt{ID: m.cacheID, Sharing: m.sharing})
			pm.CacheOpt = &cacheOpts[len(cacheOpts)-1]
			caps |= capExecMountCache | capExecMountCacheSharing
		case m.tmpfs:
			pm.MountType = pb.MountType_TMPFS
			pm.TmpfsOpt = &x.tmpfs
			caps |= capExecMountTmpfs
		case m.src != nil:
			caps |= capExecMountBind
		}
		ptrs = append(ptrs, pm)
	}
	peo.Mounts = append(append(ptrs, secrets...), sockets...)
	x.wrap.Exec = peo
	pop.Op = &x.wrap
	name := stepName(n)
	v, err := c.newVertex(pop, c.describe(n, name, op.Args), caps, deps)
	x.inputs, x.deps, x.ptrs = pop.Inputs, deps, peo.Mounts
	if err != nil {
		return nil, err
	}
	v.name = name
	if len(hosts) > 0 {
		inputs := make([]string, 0, len(v.deps))
		for _, d := range v.deps {
			inputs = append(inputs, string(d.dgst))
		}
		c.boundStep(hosts, string(v.dgst), inputs)
	}
	return v, nil
}

// execScratch holds the protobuf messages of an exec op, reused for every
// exec op of a compilation: each is marshalled before the next is built,
// and nothing keeps a pointer into them.
type execScratch struct {
	op          pb.Op
	wrap        pb.Op_Exec
	exec        pb.ExecOp
	meta        pb.Meta
	constraints pb.WorkerConstraints // always empty, as client/llb writes it
	tmpfs       pb.TmpfsOpt          // always empty: no size
	inputs      []*pb.Input
	mounts      []execMount
	pms         []pb.Mount
	caches      []pb.CacheOpt
	ptrs        []*pb.Mount
	deps        []*vertex
	env         []string
	codes       []int32
}

// execMount is a mount of an exec op that reads a filesystem (the root,
// caches, tmpfs, bind mounts), before client/llb's sort by target.
type execMount struct {
	target   string
	src      *vertex // nil: the empty filesystem
	selector string
	cacheID  string
	sharing  pb.CacheSharingOpt
	readonly bool
	tmpfs    bool
	output   bool // the root: the op's output
}

func secretMount(target, id string, uid, gid, mode int) *pb.Mount {
	return &pb.Mount{
		Input: int64(pb.Empty), Dest: target, MountType: pb.MountType_SECRET,
		SecretOpt: &pb.SecretOpt{ID: id, Uid: uint32(uid), Gid: uint32(gid), Mode: uint32(mode)},
	}
}

// execPlatform is the platform an exec op runs on, normalized as
// client/llb's State.Platform normalizes it.
func (c *compiler) execPlatform(p Platform) *pb.Platform {
	if pp, ok := c.plats[p]; ok {
		return pp
	}
	pp := pbPlatform(platforms.Normalize(c.platform(p)))
	if c.plats == nil {
		c.plats = map[Platform]*pb.Platform{}
	}
	c.plats[p] = pp
	return pp
}

// envList appends env to out the way client/llb's EnvList renders a
// sequence of AddEnv calls: each name once with its last value, ordered by
// where each name was last set.
func envList(out []string, env []EnvVar) []string {
	var arr [32]bool
	var keep []bool
	if len(env) <= len(arr) {
		keep = arr[:len(env)]
	} else {
		keep = make([]bool, len(env))
	}
	kept := 0
	for i := len(env) - 1; i >= 0; i-- {
		dup := false
		for j := i + 1; j < len(env); j++ {
			if keep[j] && env[j].Name == env[i].Name {
				dup = true
				break
			}
		}
		if !dup {
			keep[i] = true
			kept++
		}
	}
	if kept == 0 {
		return out
	}
	for i, e := range env {
		if keep[i] {
			out = append(out, e.Name+"="+e.Value)
		}
	}
	return out
}

// setDefaultEnv adds name=value unless env sets name.
func setDefaultEnv(env []EnvVar, name, value string) []EnvVar {
	for _, e := range env {
		if e.Name == name {
			return env
		}
	}
	return append(env, EnvVar{name, value})
}

func (c *compiler) addSecret(s *Secret, loc Location) (string, error) {
	id := s.Name
	src := SecretSource{ID: id, Name: s.Name, Env: s.Env, File: s.File, Value: s.Value}
	if prev, ok := c.secrets[id]; ok && (prev.Env != src.Env || prev.File != src.File || string(prev.Value) != string(src.Value)) {
		return "", Invalid(loc, "secret", "name", "two different secrets are named "+Quote(id), "give each secret its own name")
	}
	c.secrets[id] = src
	return id, nil
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
