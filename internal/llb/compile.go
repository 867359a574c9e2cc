package llb

import (
	"context"
	"fmt"
	"runtime"
	"sort"

	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// stepKey is the op metadata description key holding a step's identity.
const stepKey = "lading.step"

// Compile compiles a model value (*Container, *Directory or *File) into a
// Program: the LLB definition, the image config and the facts the engine
// needs to run it. It writes the LLB ops itself (emit.go), byte for byte
// what client/llb would marshal for the same graph, without building
// client/llb States: the equivalence tests hold it to that.
func Compile(ctx context.Context, m any, opt Options) (*Program, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	c := newCompiler(ctx, opt)
	prog := &Program{}
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
	order := c.walk(root)
	_, path := rootOf(m)
	c.deriveHostUses(order, root, path)
	c.slab = make([]vertex, len(order)+1)
	c.arenaChunk = min(max(len(order)*200, 1<<10), 64<<10) // ops are ~200 bytes
	for i, n := range order {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		v, err := c.emit(n)
		if err != nil {
			return nil, err
		}
		c.nodes[i].v = v
	}
	out := c.vertex(root)
	var err error
	switch m := m.(type) {
	case *Directory:
		if m.Path != "/" {
			if out, err = c.subdir(out, m.Path); err != nil {
				return nil, fmt.Errorf("compile: %w", err)
			}
		}
	case *Container:
		if prog.Image, err = c.imageConfig(m); err != nil {
			return nil, err
		}
		if ann := m.Settings().Annotations; len(ann) > 0 {
			prog.Annotations = ann
		}
	}
	if opt.RerunFinal && final != nil && prog.Kind == KindContainer {
		// Reading a step's output needs nothing after it.
		out = c.vertex(final)
	}
	if prog.Def, err = c.definition(out); err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	finalExec := ""
	if v := c.vertex(final); v != nil {
		finalExec = string(v.dgst)
	}
	c.facts(prog, finalExec)
	prog.FinalExitCodes = c.finalCodes
	serviceFacts(prog, c.services)
	return prog, nil
}

// facts fills in what the engine needs to know about the compiled graph,
// so that it never decodes the definition.
// finalExec is the digest of the final exec step's op, or "": named by
// digest, not identity, since two identical steps share an identity and
// only the final one may carry LADING_RUN_ID.
func (c *compiler) facts(prog *Program, finalExec string) {
	prog.FinalExec = finalExec
	prog.Steps = make(map[string]Step, len(prog.Def.Metadata))
	for dgst, md := range prog.Def.Metadata {
		if id, ok := md.Description[stepKey]; ok {
			prog.Steps[string(dgst)] = c.nodes[c.steps[id]].step
		}
	}
	prog.Locals = c.locals
	for _, id := range sortedKeys(c.secrets) {
		prog.Secrets = append(prog.Secrets, c.secrets[id])
	}
	prog.SSH = sortedKeys(c.ssh)
	prog.CacheVolumes = sortedKeys(c.caches)
	if c.opt.Volumes {
		prog.Volumes = c.volumeFacts()
	}
	prog.Bases = sortedKeys(c.bases)
	prog.Downloads = c.downloadFacts()
	prog.UsesProxy = c.proxy
	if c.insecure {
		prog.Entitlements = []string{"security.insecure"}
	}
}

type compiler struct {
	ctx context.Context
	opt Options
	// index is each node's position in the graph's post-order walk;
	// nodes holds what is known of each node, by position.
	index      map[*Node]int32
	nodes      []nodeState
	xs         execScratch
	arena      []byte // marshalled ops, see marshal
	arenaChunk int
	inputVals  []pb.Input // the inputs of the op being built
	slab       []vertex   // vertices are allocated from it, 32 at a time
	idBuf      []byte     // the buffer id hashes fields in
	capMaps    map[capSet]map[apicaps.CapID]bool
	plats      map[Platform]*pb.Platform // exec op platforms, normalized
	images     map[imageKey]*baseImage
	locals     []LocalDir
	hostUses   hostReads // what the graph reads of each host directory (hostuse.go)
	secrets    map[string]SecretSource
	ssh        map[string]struct{}
	caches     map[string]struct{}
	volumes    map[string]*volumeSite // cache id -> its first use
	bases      map[string]struct{}
	downloads  []Download       // download.go
	steps      map[string]int32 // step identity -> the last node described with it
	rerun      *Node
	finalCodes []int // the final exec step's accepted exit codes, when it reruns
	svcIDs     map[*Service]string
	services   []*ServiceRun
	proxy      bool
	insecure   bool
}

type baseImage struct {
	digest string
	config ocispecs.Image
}

// nodeState is what the compiler knows of a node.
type nodeState struct {
	v    *vertex // its op; nil for the empty filesystem
	id   string  // its identity, once computed
	step Step    // its step, once described
}

// walk lists the graph under root, inputs first, and sets up the
// compiler's state for each node.
func (c *compiler) walk(root *Node) []*Node {
	order, index := walk(root, true)
	c.index = index
	c.nodes = make([]nodeState, len(order))
	c.steps = make(map[string]int32, len(order))
	return order
}

// vertex is n's op; nil for the empty filesystem (and for no node).
func (c *compiler) vertex(n *Node) *vertex {
	if i, ok := c.index[n]; ok {
		return c.nodes[i].v
	}
	return nil
}

func newCompiler(ctx context.Context, opt Options) *compiler {
	return &compiler{
		ctx:     ctx,
		opt:     opt,
		images:  map[imageKey]*baseImage{},
		secrets: map[string]SecretSource{},
		ssh:     map[string]struct{}{},
		caches:  map[string]struct{}{},
		bases:   map[string]struct{}{},
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

// describe registers n's step under its identity and returns the op
// metadata description that names it in progress: the step's identity, its
// name and its Go call site (which never enters the image: see config.go).
func (c *compiler) describe(n *Node, name string, args []string) map[string]string {
	id := c.id(n)
	loc := n.Loc.String()
	i := c.index[n]
	c.nodes[i].step = Step{ID: id, Op: n.Op.opName(), Args: args, Location: loc, Name: name}
	c.steps[id] = i
	return map[string]string{
		stepKey:    id,
		customName: name + " [" + loc + "]",
	}
}

// emit writes the op of node n, whose inputs are already emitted. It
// returns nil for the empty filesystem, which has no op.
func (c *compiler) emit(n *Node) (*vertex, error) {
	switch op := n.Op.(type) {
	case ScratchOp:
		return nil, nil
	case *ImageOp:
		return c.image(n, op)
	case *LocalOp:
		return c.local(n, op)
	case *GitOp:
		return c.git(n, op)
	case *HTTPOp:
		return c.http(n, op)
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
	return nil, fmt.Errorf("compile: unknown operation %T", n.Op)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
