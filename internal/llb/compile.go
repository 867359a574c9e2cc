package llb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	bkllb "github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// stepKey is the op metadata description key holding a step's identity.
const stepKey = "lading.step"

// Compile compiles a model value (*Container, *Directory or *File).
func Compile(ctx context.Context, m any, opt Options) (*Program, error) {
	c := newCompiler(ctx, opt)
	prog := &Program{Steps: map[string]Step{}}
	var (
		root  *Node
		final bkllb.State
		err   error
	)
	if err := Validate(m); err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *Container:
		prog.Kind, root = KindContainer, m.Root
	case *Directory:
		prog.Kind, root = KindDirectory, m.Root
	case *File:
		prog.Kind, root, prog.FilePath = KindFile, m.Root, m.Path
	}
	if opt.RerunFinal {
		c.rerun = root
	}
	// Compile inputs before the steps that use them, in a loop: recursing
	// once per step would grow the goroutine stack with the chain, and the
	// runtime copies and scans that stack (measurable at 2,000 steps).
	for _, n := range postOrder(root) {
		if _, err := c.state(n); err != nil {
			return nil, err
		}
	}
	if final, err = c.state(root); err != nil {
		return nil, err
	}
	switch m := m.(type) {
	case *Directory:
		if m.Path != "/" {
			final = bkllb.Scratch().File(bkllb.Copy(final, m.Path, "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}),
				bkllb.WithCustomName("directory "+m.Path))
		}
	case *Container:
		img, err := c.imageConfig(m)
		if err != nil {
			return nil, err
		}
		prog.Image = img
		if len(m.Config.Annotations) > 0 {
			prog.Annotations = m.Config.Annotations
		}
	}
	def, err := final.Marshal(ctx, bkllb.Platform(c.platform(Platform{})))
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	prog.Def = def
	for dgst, md := range def.Metadata {
		if id, ok := md.Description[stepKey]; ok {
			prog.Steps[string(dgst)] = c.steps[id]
		}
	}
	prog.Locals = c.locals
	for _, id := range sortedKeys(c.secrets) {
		prog.Secrets = append(prog.Secrets, c.secrets[id])
	}
	prog.SSH = sortedKeys(c.ssh)
	return prog, nil
}

type compiler struct {
	ctx     context.Context
	opt     Options
	states  map[*Node]bkllb.State
	ids     map[*Node]string
	images  map[string]*baseImage
	locals  []LocalDir
	secrets map[string]SecretSource
	ssh     map[string]struct{}
	steps   map[string]Step
	rerun   *Node
}

type baseImage struct {
	digest string
	config ocispecs.Image
}

func newCompiler(ctx context.Context, opt Options) *compiler {
	return &compiler{
		ctx:     ctx,
		opt:     opt,
		states:  map[*Node]bkllb.State{},
		ids:     map[*Node]string{},
		images:  map[string]*baseImage{},
		secrets: map[string]SecretSource{},
		ssh:     map[string]struct{}{},
		steps:   map[string]Step{},
	}
}

func (c *compiler) platform(p Platform) ocispecs.Platform {
	if p.Build {
		if c.opt.BuildPlatform.OS != "" {
			return c.opt.BuildPlatform
		}
		return ocispecs.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	if p.OS != "" {
		return ocispecs.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}
	}
	if c.opt.Platform.OS != "" {
		return c.opt.Platform
	}
	return ocispecs.Platform{OS: "linux", Architecture: "amd64"}
}

// resolve returns the base image's digest and config, looked up once per
// compilation.
func (c *compiler) resolve(img *ImageOp) (*baseImage, error) {
	p := c.platform(img.Platform)
	key := img.Ref + "|" + platforms.Format(p)
	if b, ok := c.images[key]; ok {
		return b, nil
	}
	b := &baseImage{}
	if c.opt.Resolver != nil {
		dgst, dt, err := c.opt.Resolver.ResolveImageConfig(c.ctx, img.Ref, p)
		if err != nil {
			return nil, fmt.Errorf("resolving base image %q: %w", img.Given, err)
		}
		b.digest = dgst
		if len(dt) > 0 {
			if err := json.Unmarshal(dt, &b.config); err != nil {
				return nil, fmt.Errorf("resolving base image %q: bad config: %w", img.Given, err)
			}
		}
	}
	c.images[key] = b
	return b, nil
}

// id gives each node a stable identity: a hash of its operation's kind, its
// key arguments and its inputs' identities. Values such as env, which do not
// change what a step is, do not change its identity.
func (c *compiler) id(n *Node, parts ...string) string {
	if id, ok := c.ids[n]; ok {
		return id
	}
	h := sha256.New()
	h.Write([]byte(n.Op.opName()))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	id := n.Op.opName() + "-" + hex.EncodeToString(h.Sum(nil))[:12]
	c.ids[n] = id
	return id
}

func (c *compiler) record(n *Node, id, name string, args []string) bkllb.ConstraintsOpt {
	c.steps[id] = Step{ID: id, Op: n.Op.opName(), Args: args, Location: n.Loc.String(), Name: name}
	return bkllb.WithDescription(map[string]string{
		stepKey:          id,
		"llb.customname": name + " [" + n.Loc.String() + "]",
	})
}

// state compiles a node into an LLB state, each node once. Every state
// handed back is cut loose from its parent's metadata chain, so later steps
// never walk the whole history (raw llb does, which makes long chains
// quadratic).
func (c *compiler) state(n *Node) (bkllb.State, error) {
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

func (c *compiler) compileOp(n *Node) (bkllb.State, error) {
	switch op := n.Op.(type) {
	case ScratchOp:
		return bkllb.Scratch(), nil
	case *ImageOp:
		b, err := c.resolve(op)
		if err != nil {
			return bkllb.State{}, err
		}
		ref := op.Ref
		if b.digest != "" && !strings.Contains(ref, "@") {
			ref += "@" + b.digest
		}
		p := c.platform(op.Platform)
		id := c.id(n, op.Ref, platforms.Format(p))
		return bkllb.Image(ref, bkllb.Platform(p), c.record(n, id, "from "+op.Given, []string{op.Given})), nil
	case *LocalOp:
		return c.local(n, op)
	case *GitOp:
		id := c.id(n, op.URL, op.Ref)
		opts := []bkllb.GitOption{c.record(n, id, "git "+op.URL+"#"+op.Ref, []string{op.URL, op.Ref})}
		if op.KeepGitDir {
			opts = append(opts, bkllb.KeepGitDir())
		}
		return bkllb.Git(op.URL, op.Ref, opts...), nil
	case *HTTPOp:
		id := c.id(n, op.URL, op.Checksum)
		opts := []bkllb.HTTPOption{
			bkllb.Filename(op.Filename),
			c.record(n, id, "http "+op.URL, []string{op.URL}),
		}
		if op.Checksum != "" {
			opts = append(opts, bkllb.Checksum(digest.Digest(op.Checksum)))
		}
		if op.Mode != 0 {
			opts = append(opts, bkllb.Chmod(op.Mode))
		}
		return bkllb.HTTP(op.URL, opts...), nil
	case *ExecOp:
		return c.exec(n, op)
	case *CopyOp:
		dest, err := c.state(op.Dest)
		if err != nil {
			return dest, err
		}
		src, err := c.state(op.Src)
		if err != nil {
			return src, err
		}
		id := c.id(n, c.ids[op.Dest], c.ids[op.Src], op.SrcPath, op.DestPath)
		info := &bkllb.CopyInfo{
			CreateDestPath:      true,
			CopyDirContentsOnly: !op.File,
			AllowWildcard:       false,
			IncludePatterns:     op.Opts.Include,
			ExcludePatterns:     op.Opts.Exclude,
			ChownOpt:            chown(op.Opts.Owner),
		}
		if op.Opts.Mode != nil {
			info.Mode = &bkllb.ChmodOpt{Mode: *op.Opts.Mode}
		}
		name := "copy " + op.SrcPath + " " + op.DestPath
		return dest.File(bkllb.Copy(src, op.SrcPath, op.DestPath, info), c.record(n, id, name, []string{op.SrcPath, op.DestPath})), nil
	case *MkfileOp:
		dest, err := c.state(op.Dest)
		if err != nil {
			return dest, err
		}
		id := c.id(n, c.ids[op.Dest], op.Path)
		act := bkllb.Mkdir(path.Dir(op.Path), 0o755, bkllb.WithParents(true)).
			Mkfile(op.Path, op.Mode, op.Data, mkfileOwner(op.Owner)...)
		return dest.File(act, c.record(n, id, "newfile "+op.Path, []string{op.Path})), nil
	case *MkdirOp:
		dest, err := c.state(op.Dest)
		if err != nil {
			return dest, err
		}
		id := c.id(n, c.ids[op.Dest], op.Path)
		var opts []bkllb.MkdirOption
		opts = append(opts, bkllb.WithParents(true))
		if co := chown(op.Owner); co != nil {
			opts = append(opts, co)
		}
		return dest.File(bkllb.Mkdir(op.Path, op.Mode, opts...), c.record(n, id, "mkdir "+op.Path, []string{op.Path})), nil
	case *RmOp:
		dest, err := c.state(op.Dest)
		if err != nil {
			return dest, err
		}
		id := c.id(n, c.ids[op.Dest], op.Path)
		return dest.File(bkllb.Rm(op.Path, bkllb.WithAllowNotFound(true)), c.record(n, id, "rm "+op.Path, []string{op.Path})), nil
	}
	return bkllb.State{}, fmt.Errorf("compile: unknown operation %T", n.Op)
}

func mkfileOwner(o *Owner) []bkllb.MkfileOption {
	if co := chown(o); co != nil {
		return []bkllb.MkfileOption{co}
	}
	return nil
}

func chown(o *Owner) *bkllb.ChownOpt {
	if o == nil {
		return nil
	}
	co := &bkllb.ChownOpt{User: &bkllb.UserOpt{UID: o.UID, Name: o.User}}
	if o.Group != "" || o.GID != 0 || o.User == "" {
		co.Group = &bkllb.UserOpt{UID: o.GID, Name: o.Group}
	}
	return co
}

func (c *compiler) local(n *Node, op *LocalOp) (bkllb.State, error) {
	exclude := op.Exclude
	if !op.NoDockerignore {
		extra, err := readDockerignore(op.Path)
		if err != nil {
			return bkllb.State{}, Invalid(n.Loc, "Host", "path", err.Error(), "fix or remove the .dockerignore file")
		}
		exclude = append(append([]string(nil), extra...), exclude...)
	}
	sum := sha256.Sum256([]byte(op.Path + "\x00" + strings.Join(op.Include, "\x00") + "\x00\x00" + strings.Join(exclude, "\x00")))
	name := "host-" + hex.EncodeToString(sum[:])[:16]
	key := "lading:" + hex.EncodeToString(sum[:])
	found := false
	for _, l := range c.locals {
		found = found || l.Name == name
	}
	if !found {
		c.locals = append(c.locals, LocalDir{Name: name, Path: op.Path, Include: op.Include, Exclude: exclude, SharedKey: key})
	}
	id := c.id(n, op.Given, strings.Join(op.Include, ","), strings.Join(exclude, ","))
	opts := []bkllb.LocalOption{
		bkllb.SharedKeyHint(key),
		bkllb.LocalUniqueID(name),
		c.record(n, id, "host "+op.Given, []string{op.Given}),
	}
	if len(op.Include) > 0 {
		opts = append(opts, bkllb.IncludePatterns(op.Include))
	}
	if len(exclude) > 0 {
		opts = append(opts, bkllb.ExcludePatterns(exclude))
	}
	return bkllb.Local(name, opts...), nil
}

// caMountPaths are where RUN steps find the network's CA bundle.
var caMountPaths = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}

// caEnv points common tools at the mounted CA bundle.
var caEnv = []string{"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO", "PIP_CERT"}

// caSecretID names the CA bundle, sent like a secret so that it never
// enters the cache key or the image.
const caSecretID = "lading-ca-bundle"

func (c *compiler) exec(n *Node, op *ExecOp) (bkllb.State, error) {
	base, err := c.state(op.Base)
	if err != nil {
		return base, err
	}
	var cfg ocispecs.ImageConfig
	if op.Image != nil {
		b, err := c.resolve(op.Image)
		if err != nil {
			return base, err
		}
		cfg = b.config.Config
	}
	st := base
	env := mergeEnv(cfg.Env, op.Env)
	if op.Proxy != nil && op.Proxy.CABundle != "" {
		for _, name := range caEnv {
			env = SetEnv(env, name, caMountPaths[0])
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
	p := c.platform(op.Platform)
	st = st.Platform(p)

	parts := []string{c.ids[op.Base]}
	parts = append(parts, op.Args...)
	id := c.id(n, parts...)
	opts := []bkllb.RunOption{
		bkllb.Args(op.Args),
		c.record(n, id, "exec "+shellJoin(op.Args), op.Args),
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
		opts = append(opts, bkllb.Security(bkllb.SecurityModeInsecure))
	}
	if !op.Proxy.Empty() {
		px := op.Proxy
		if px.HTTP != "" || px.HTTPS != "" || px.FTP != "" || px.NoProxy != "" || px.All != "" {
			opts = append(opts, bkllb.WithProxy(bkllb.ProxyEnv{HTTPProxy: px.HTTP, HTTPSProxy: px.HTTPS, FTPProxy: px.FTP, NoProxy: px.NoProxy, AllProxy: px.All}))
		}
		if px.CABundle != "" {
			c.secrets[caSecretID] = SecretSource{ID: caSecretID, Name: "CA bundle", File: px.CABundle}
			for _, target := range caMountPaths {
				opts = append(opts, bkllb.AddSecret(target, bkllb.SecretID(caSecretID), bkllb.SecretFileOpt(0, 0, 0o444)))
			}
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
		return "", Invalid(loc, "secret", "name", fmt.Sprintf("two different secrets are named %q", id), "give each secret its own name")
	}
	c.secrets[id] = src
	return id, nil
}

func (c *compiler) mount(m Mount) (bkllb.RunOption, error) {
	switch m.Kind {
	case MountCache:
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
	return nil, fmt.Errorf("compile: unknown mount kind %d", m.Kind)
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

// imageConfig merges the program's settings over the base image's config.
func (c *compiler) imageConfig(m *Container) (ocispecs.Image, error) {
	var img ocispecs.Image
	if m.Image != nil {
		b, err := c.resolve(m.Image)
		if err != nil {
			return img, err
		}
		img = b.config
		img.RootFS = ocispecs.RootFS{}
		img.History = nil
	}
	p := c.platform(m.Platform)
	img.Platform = p
	cfg := &img.Config
	for _, e := range m.Env {
		cfg.Env = setEnvList(cfg.Env, e.Name, e.Value)
	}
	if m.Workdir != "" {
		cfg.WorkingDir = m.Workdir
	}
	if m.User != "" {
		cfg.User = m.User
	}
	if m.Config.SetEntry {
		cfg.Entrypoint = m.Config.Entrypoint
		if !m.Config.SetCmd {
			cfg.Cmd = nil
		}
	}
	if m.Config.SetCmd {
		cfg.Cmd = m.Config.Cmd
	}
	if len(m.Config.Labels) > 0 {
		labels := make(map[string]string, len(cfg.Labels)+len(m.Config.Labels))
		for k, v := range cfg.Labels {
			labels[k] = v
		}
		for k, v := range m.Config.Labels {
			labels[k] = v
		}
		cfg.Labels = labels
	}
	if len(m.Config.Ports) > 0 {
		ports := make(map[string]struct{}, len(cfg.ExposedPorts)+len(m.Config.Ports))
		for k := range cfg.ExposedPorts {
			ports[k] = struct{}{}
		}
		for _, p := range m.Config.Ports {
			ports[p] = struct{}{}
		}
		cfg.ExposedPorts = ports
	}
	if m.Config.StopSignal != "" {
		cfg.StopSignal = m.Config.StopSignal
	}
	return img, nil
}

func setEnvList(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}

func shellJoin(args []string) string {
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
	}
	s := b.String()
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inputs lists the nodes n reads.
func inputs(n *Node) []*Node {
	switch op := n.Op.(type) {
	case *ExecOp:
		in := []*Node{op.Base}
		for _, m := range op.Mounts {
			if m.Source != nil {
				in = append(in, m.Source)
			}
		}
		return in
	case *CopyOp:
		return []*Node{op.Dest, op.Src}
	case *MkfileOp:
		return []*Node{op.Dest}
	case *MkdirOp:
		return []*Node{op.Dest}
	case *RmOp:
		return []*Node{op.Dest}
	}
	return nil
}

// postOrder lists the graph under root, every node after its inputs,
// without recursion.
func postOrder(root *Node) []*Node {
	type frame struct {
		n    *Node
		next int
	}
	var out []*Node
	seen := map[*Node]bool{}
	stack := []frame{{n: root}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.n == nil || (top.next == 0 && seen[top.n]) {
			stack = stack[:len(stack)-1]
			continue
		}
		seen[top.n] = true
		in := inputs(top.n)
		if top.next < len(in) {
			child := in[top.next]
			top.next++
			if child != nil && !seen[child] {
				stack = append(stack, frame{n: child})
			}
			continue
		}
		out = append(out, top.n)
		stack = stack[:len(stack)-1]
	}
	return out
}
