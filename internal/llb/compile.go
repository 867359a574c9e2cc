package llb

import (
	"context"
	"fmt"
	"runtime"
	"sort"

	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// stepKey is the op metadata description key holding a step's identity.
const stepKey = "lading.step"

// Compile compiles a model value (*Container, *Directory or *File) into a
// Program: the LLB definition, the image config and the facts the engine
// needs to run it.
func Compile(ctx context.Context, m any, opt Options) (*Program, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	c := newCompiler(ctx, opt)
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
	// Compile inputs before the steps that use them, in a loop: recursing
	// once per step would grow the goroutine stack with the chain, and the
	// runtime copies and scans that stack (measurable at 2,000 steps).
	for _, n := range postOrder(root) {
		if _, err := c.state(n); err != nil {
			return nil, err
		}
	}
	out, err := c.state(root)
	if err != nil {
		return nil, err
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
		if len(m.Config.Annotations) > 0 {
			prog.Annotations = m.Config.Annotations
		}
	}
	def, err := out.Marshal(ctx, bkllb.Platform(c.platform(Platform{})))
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	prog.Def = def
	c.facts(prog, final)
	return prog, nil
}

// facts fills in what the engine needs to know about the compiled graph,
// so that it never decodes the definition.
func (c *compiler) facts(prog *Program, final *Node) {
	finalID := ""
	if final != nil {
		finalID = c.ids[final]
	}
	for dgst, md := range prog.Def.Metadata {
		if id, ok := md.Description[stepKey]; ok {
			prog.Steps[string(dgst)] = c.steps[id]
			if id == finalID {
				prog.FinalExec = string(dgst)
			}
		}
	}
	prog.Locals = c.locals
	for _, id := range sortedKeys(c.secrets) {
		prog.Secrets = append(prog.Secrets, c.secrets[id])
	}
	prog.SSH = sortedKeys(c.ssh)
	prog.CacheVolumes = sortedKeys(c.caches)
	prog.Bases = sortedKeys(c.bases)
	prog.UsesProxy = c.proxy
	if c.insecure {
		prog.Entitlements = []string{"security.insecure"}
	}
}

type compiler struct {
	ctx      context.Context
	opt      Options
	states   map[*Node]bkllb.State
	ids      map[*Node]string
	images   map[string]*baseImage
	locals   []LocalDir
	secrets  map[string]SecretSource
	ssh      map[string]struct{}
	caches   map[string]struct{}
	bases    map[string]struct{}
	steps    map[string]Step
	rerun    *Node
	proxy    bool
	insecure bool
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
		caches:  map[string]struct{}{},
		bases:   map[string]struct{}{},
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

// record registers n's step under its identity and returns the metadata
// that names it in progress: the step's name and its Go call site (which
// never enters the image: see config.go).
func (c *compiler) record(n *Node, name string, args []string) bkllb.ConstraintsOpt {
	id := c.id(n)
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
