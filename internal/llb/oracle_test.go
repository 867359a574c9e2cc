package llb

import (
	"context"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	bkllb "github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// This file keeps the compiler lading had before it emitted LLB ops
// itself: it builds client/llb States for every node and marshals them.
// It is the test oracle of the direct emitter (emit.go, exec.go,
// fileop.go, source.go): both must give identical ops and metadata for
// every graph (equivalence_test.go, oracle_fuzz_test.go). Only the State
// plumbing lives here; the bookkeeping (identities, secrets, locals, image
// config) is the production code both share.

// compileStates is Compile through client/llb States.
func compileStates(ctx context.Context, m any, opt Options) (*Program, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	c := &stateCompiler{compiler: newCompiler(ctx, opt), states: map[*Node]bkllb.State{}}
	prog := &Program{Steps: map[string]Step{}}
	var root *Node
	switch m := m.(type) {
	case *Container:
		prog.Kind, root = KindContainer, m.Root
	case *Directory:
		prog.Kind, root = KindDirectory, m.Root
	case *File:
		prog.Kind, root, prog.FilePath = KindFile, m.Root, m.Path
	}
	final := finalExecNode(root)
	if opt.RerunFinal {
		c.rerun = final
	}
	order := c.walk(root)
	_, path := rootOf(m)
	c.deriveHostUses(order, root, path)
	for _, n := range order {
		if _, err := c.state(n); err != nil {
			return nil, err
		}
	}
	out, err := c.state(root)
	if err != nil {
		return nil, err
	}
	if opt.RerunFinal && final != nil && prog.Kind == KindContainer {
		out = c.states[final]
	}
	switch m := m.(type) {
	case *Directory:
		if m.Path != "/" {
			out = bkllb.Scratch().File(bkllb.Copy(out, m.Path, "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}),
				bkllb.WithCustomName("directory "+m.Path))
		}
	case *Container:
		if prog.Image, err = c.imageConfig(m); err != nil {
			return nil, err
		}
		if ann := m.Settings().Annotations; len(ann) > 0 {
			prog.Annotations = ann
		}
	}
	def, err := out.Marshal(ctx, bkllb.Platform(c.platform(Platform{})))
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	prog.Def = def
	finalExec := ""
	if final != nil {
		dgst, _, _, _, err := c.states[final].Output().Vertex(ctx, def.Constraints).Marshal(ctx, def.Constraints)
		if err != nil {
			return nil, err
		}
		finalExec = string(dgst)
	}
	for n, st := range c.states {
		op, ok := n.Op.(*ExecOp)
		if !ok || len(op.Services) == 0 {
			continue
		}
		vtx := st.Output().Vertex(ctx, def.Constraints)
		dgst, _, _, _, err := vtx.Marshal(ctx, def.Constraints)
		if err != nil {
			return nil, err
		}
		var inputs []string
		for _, in := range vtx.Inputs() {
			d, _, _, _, err := in.Vertex(ctx, def.Constraints).Marshal(ctx, def.Constraints)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, string(d))
		}
		if _, ok := def.Metadata[dgst]; !ok {
			continue // not in the definition (after the step read)
		}
		hosts, err := c.extraHosts(op)
		if err != nil {
			return nil, err
		}
		c.boundStep(hosts, string(dgst), inputs)
	}
	c.facts(prog, finalExec)
	prog.FinalExitCodes = c.finalCodes
	serviceFacts(prog, c.services)
	return prog, nil
}

type stateCompiler struct {
	*compiler
	states map[*Node]bkllb.State
}

func (c *stateCompiler) record(n *Node, name string, args []string) bkllb.ConstraintsOpt {
	return bkllb.WithDescription(c.describe(n, name, args))
}

func (c *stateCompiler) state(n *Node) (bkllb.State, error) {
	if n == nil {
		return bkllb.Scratch(), nil
	}
	if st, ok := c.states[n]; ok {
		return st, nil
	}
	if err := c.ctx.Err(); err != nil {
		return bkllb.State{}, err
	}
	st, err := c.compileOp(n)
	if err != nil {
		return bkllb.State{}, err
	}
	st = bkllb.NewState(st.Output())
	c.states[n] = st
	return st, nil
}

func (c *stateCompiler) compileOp(n *Node) (bkllb.State, error) {
	switch op := n.Op.(type) {
	case ScratchOp:
		return bkllb.Scratch(), nil
	case *ImageOp:
		return c.image(n, op)
	case *LocalOp:
		return c.local(n, op)
	case *GitOp:
		return c.git(n, op), nil
	case *HTTPOp:
		return c.http(n, op), nil
	case *ExecOp:
		return c.exec(n, op)
	case *CopyOp:
		return c.copy(n, op)
	case *MkfileOp:
		return c.mkfile(n, op)
	case *MkdirOp:
		return c.mkdir(n, op)
	case *RmOp:
		return c.rm(n, op)
	}
	return bkllb.State{}, fmt.Errorf("compile: unknown operation %T", n.Op)
}

func (c *stateCompiler) exec(n *Node, op *ExecOp) (bkllb.State, error) {
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
	if n == c.rerun && len(op.ExitCodes) > 0 {
		c.finalCodes = slices.Clone(op.ExitCodes)
	} else if len(op.ExitCodes) > 0 {
		opts = append(opts, bkllb.ValidExitCodes(op.ExitCodes...))
	}
	hosts, err := c.extraHosts(op)
	if err != nil {
		return base, err
	}
	for _, h := range hosts {
		st = st.AddExtraHost(h.Host, net.ParseIP(h.IP))
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

func (c *stateCompiler) mount(m Mount) (bkllb.RunOption, error) {
	switch m.Kind {
	case MountCache:
		c.caches[m.CacheID] = struct{}{}
		opts := []bkllb.MountOption{bkllb.AsPersistentCacheDir(m.CacheID, bkllb.CacheMountSharingMode(m.Sharing))}
		src := bkllb.Scratch()
		if m.Owner != nil {
			src = src.File(bkllb.Mkdir("/cache", 0o755, stateChown(m.Owner)), bkllb.WithCustomName("cache owner "+m.CacheID))
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

func (c *stateCompiler) copy(n *Node, op *CopyOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	src, err := c.state(op.Src)
	if err != nil {
		return src, err
	}
	info := &bkllb.CopyInfo{
		CreateDestPath:      true,
		CopyDirContentsOnly: !op.File,
		IncludePatterns:     op.Opts.Include,
		ExcludePatterns:     op.Opts.Exclude,
		ChownOpt:            stateChown(op.Opts.Owner),
	}
	if op.Opts.Mode != nil {
		info.Mode = &bkllb.ChmodOpt{Mode: *op.Opts.Mode}
	}
	return dest.File(bkllb.Copy(src, op.SrcPath, op.DestPath, info), c.record(n, stepName(n), []string{op.SrcPath, op.DestPath})), nil
}

func (c *stateCompiler) mkfile(n *Node, op *MkfileOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	var owner []bkllb.MkfileOption
	if co := stateChown(op.Owner); co != nil {
		owner = []bkllb.MkfileOption{co}
	}
	act := bkllb.Mkdir(path.Dir(op.Path), 0o755, bkllb.WithParents(true)).
		Mkfile(op.Path, op.Mode, op.Data, owner...)
	return dest.File(act, c.record(n, stepName(n), []string{op.Path})), nil
}

func (c *stateCompiler) mkdir(n *Node, op *MkdirOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	opts := []bkllb.MkdirOption{bkllb.WithParents(true)}
	if co := stateChown(op.Owner); co != nil {
		opts = append(opts, co)
	}
	return dest.File(bkllb.Mkdir(op.Path, op.Mode, opts...), c.record(n, stepName(n), []string{op.Path})), nil
}

func (c *stateCompiler) rm(n *Node, op *RmOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	return dest.File(bkllb.Rm(op.Path, bkllb.WithAllowNotFound(true)), c.record(n, stepName(n), []string{op.Path})), nil
}

func stateChown(o *Owner) *bkllb.ChownOpt {
	if o == nil {
		return nil
	}
	co := &bkllb.ChownOpt{User: &bkllb.UserOpt{UID: o.UID, Name: o.User}}
	if o.Group != "" || o.GID != 0 || o.User == "" {
		co.Group = &bkllb.UserOpt{UID: o.GID, Name: o.Group}
	}
	return co
}

func (c *stateCompiler) image(n *Node, op *ImageOp) (bkllb.State, error) {
	ref, err := c.pinnedRef(n, op)
	if err != nil {
		return bkllb.State{}, err
	}
	return bkllb.Image(ref, bkllb.Platform(c.platform(op.Platform)), c.record(n, "from "+op.Given, []string{op.Given})), nil
}

func (c *stateCompiler) local(n *Node, op *LocalOp) (bkllb.State, error) {
	dir, err := c.hostDir(n, op)
	if err != nil {
		return bkllb.State{}, err
	}
	opts := []bkllb.LocalOption{
		bkllb.SharedKeyHint(dir.SharedKey),
		bkllb.LocalUniqueID(dir.Name),
		c.record(n, "host "+op.Given, []string{op.Given}),
	}
	if len(dir.Include) > 0 {
		opts = append(opts, bkllb.IncludePatterns(dir.Include))
	}
	if len(dir.Exclude) > 0 {
		opts = append(opts, bkllb.ExcludePatterns(dir.Exclude))
	}
	return bkllb.Local(dir.Name, opts...), nil
}

func (c *stateCompiler) git(n *Node, op *GitOp) bkllb.State {
	opts := []bkllb.GitOption{c.record(n, "git "+op.URL+"#"+op.Ref, []string{op.URL, op.Ref})}
	if op.KeepGitDir {
		opts = append(opts, bkllb.KeepGitDir())
	}
	return bkllb.Git(op.URL, op.Ref, opts...)
}

func (c *stateCompiler) http(n *Node, op *HTTPOp) bkllb.State {
	opts := []bkllb.HTTPOption{
		bkllb.Filename(op.Filename),
		c.record(n, "http "+op.URL, []string{op.URL}),
	}
	sum := c.checksumOf(op)
	c.addDownload(n, op, sum)
	if sum != "" {
		opts = append(opts, bkllb.Checksum(digest.Digest(sum)))
	}
	if op.Mode != 0 {
		opts = append(opts, bkllb.Chmod(op.Mode))
	}
	return bkllb.HTTP(op.URL, opts...)
}

// oldShellJoin is shellJoin as it was written first, the oracle of
// joinArgs (names enter image history, so they must not change).
func oldShellJoin(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\") {
			b.WriteString(strconv.Quote(a))
		} else {
			b.WriteString(a)
		}
		if b.Len() > 120 {
			break
		}
	}
	s := b.String()
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
