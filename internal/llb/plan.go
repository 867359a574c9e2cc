package llb

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// PlanStep is one step of a value's graph, in a form meant for reading and
// asserting on: no BuildKit types, secrets by name only.
type PlanStep struct {
	Index     int // 1-based position in the plan
	Op        string
	Args      []string
	Inputs    []int    // indexes of the steps this one reads
	Env       []string // NAME=value set by the program
	SecretEnv []string // NAME=secret:<name>
	Workdir   string
	User      string
	Mounts    []PlanMount
	Proxy     bool
	NoNetwork bool
	Services  []PlanService // bound to the step, sorted by alias
	ExitCodes []int
	Platform  string
	Location  string
}

// PlanMount is a mount of an exec step.
type PlanMount struct {
	Target  string
	Kind    string // cache, tmp, secret, dir, file, ssh
	Cache   string // cache id
	Sharing string
	Secret  string // secret name
	Input   int    // step index of a mounted directory or file
	Path    string // path inside the mounted input
}

// PlanImage is the image config a container value sets (on top of its base
// image's, which is not known offline).
type PlanImage struct {
	Base        string
	Env         []string
	Workdir     string
	User        string
	Entrypoint  []string
	Cmd         []string
	SetCmd      bool
	SetEntry    bool
	Labels      map[string]string
	Ports       []string
	Annotations map[string]string
}

// Plan is a value's graph in topological order.
type Plan struct {
	Steps  []PlanStep
	Image  *PlanImage // nil unless the value is a container
	Output string     // for directories and files: the path inside the last step
	Err    error      // the value's validation error, if any
}

// BuildPlan lays out a model value (*Container, *Directory or *File) as a
// Plan, without BuildKit. A value Validate refuses has no steps, only Err:
// a plan reports exactly what a build would reject before the daemon.
func BuildPlan(m any) *Plan {
	p := &Plan{Err: Validate(m)}
	if p.Err != nil {
		return p
	}
	pb := &planner{index: map[*Node]int{}, plan: p}
	switch m := m.(type) {
	case *Container:
		pb.walk(m.Root)
		cfg := m.Settings()
		img := &PlanImage{Workdir: m.Workdir, User: m.User, Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd,
			SetCmd: cfg.SetCmd, SetEntry: cfg.SetEntry, Labels: cfg.Labels, Ports: cfg.Ports, Annotations: cfg.Annotations}
		if m.Image != nil {
			img.Base = m.Image.Given
		}
		for _, e := range m.Env {
			img.Env = append(img.Env, e.Name+"="+e.Value)
		}
		p.Image = img
	case *Directory:
		pb.walk(m.Root)
		p.Output = m.Path
	case *File:
		pb.walk(m.Root)
		p.Output = m.Path
	}
	return p
}

type planner struct {
	index map[*Node]int
	plan  *Plan
}

// walk adds the graph under root to the plan, every step after its inputs.
// It loops over postOrder instead of recursing, so a chain of any depth
// plans in constant goroutine stack.
func (pb *planner) walk(root *Node) {
	for _, n := range postOrder(root) {
		s := pb.step(n)
		s.Index = len(pb.plan.Steps) + 1
		pb.plan.Steps = append(pb.plan.Steps, s)
		pb.index[n] = s.Index
	}
}

// at is the plan index of an input already walked; 0 for none.
func (pb *planner) at(n *Node) int {
	if n == nil {
		return 0
	}
	return pb.index[n]
}

// step describes n; its inputs are already in the plan.
func (pb *planner) step(n *Node) PlanStep {
	s := PlanStep{Op: n.Op.opName(), Location: n.Loc.String()}
	switch op := n.Op.(type) {
	case ScratchOp:
		s.Op = "scratch"
	case *ImageOp:
		s.Args = []string{op.Given}
		s.Platform = op.Platform.String()
	case *LocalOp:
		s.Args = []string{op.Given}
		for _, p := range op.Include {
			s.Args = append(s.Args, "include="+p)
		}
		for _, p := range op.Exclude {
			s.Args = append(s.Args, "exclude="+p)
		}
	case *GitOp:
		s.Args = []string{op.URL, op.Ref}
	case *HTTPOp:
		s.Args = []string{op.URL}
		if op.Checksum != "" {
			s.Args = append(s.Args, op.Checksum)
		}
	case *ExecOp:
		pb.exec(&s, op)
	case *CopyOp:
		s.Inputs = []int{pb.at(op.Dest), pb.at(op.Src)}
		s.Args = []string{op.SrcPath, op.DestPath}
		for _, p := range op.Opts.Include {
			s.Args = append(s.Args, "include="+p)
		}
		for _, p := range op.Opts.Exclude {
			s.Args = append(s.Args, "exclude="+p)
		}
		if op.Opts.Owner != nil {
			s.Args = append(s.Args, "owner="+ownerString(op.Opts.Owner))
		}
		if op.Opts.Mode != nil {
			s.Args = append(s.Args, fmt.Sprintf("mode=%#o", uint32(*op.Opts.Mode)))
		}
	case *MkfileOp:
		s.Inputs = []int{pb.at(op.Dest)}
		s.Args = []string{op.Path, fmt.Sprintf("mode=%#o", uint32(op.Mode)), fmt.Sprintf("size=%d", len(op.Data))}
		if op.Owner != nil {
			s.Args = append(s.Args, "owner="+ownerString(op.Owner))
		}
	case *MkdirOp:
		s.Inputs = []int{pb.at(op.Dest)}
		s.Args = []string{op.Path, fmt.Sprintf("mode=%#o", uint32(op.Mode))}
	case *RmOp:
		s.Inputs = []int{pb.at(op.Dest)}
		s.Args = []string{op.Path}
	}
	s.Inputs = slices.DeleteFunc(s.Inputs, func(i int) bool { return i == 0 })
	return s
}

// exec fills in an exec step.
func (pb *planner) exec(s *PlanStep, op *ExecOp) {
	s.Inputs = []int{pb.at(op.Base)}
	s.Args = op.Args
	for _, e := range op.Env {
		s.Env = append(s.Env, e.Name+"="+e.Value)
	}
	for _, e := range op.SecretEnv {
		s.SecretEnv = append(s.SecretEnv, e.Name+"=secret:"+e.Secret.Name)
	}
	s.Workdir, s.User, s.Proxy, s.NoNetwork = op.Workdir, op.User, !op.Proxy.Empty(), op.NoNetwork
	s.Platform = op.Platform.String()
	for _, m := range op.Mounts {
		pm := PlanMount{Target: m.Target, Kind: m.Kind.String()}
		switch m.Kind {
		case MountCache:
			pm.Cache, pm.Sharing = m.CacheID, m.Sharing.String()
		case MountSecret:
			pm.Secret = m.Secret.Name
		case MountDirectory, MountFile:
			pm.Input, pm.Path = pb.at(m.Source), m.Path
		}
		s.Mounts = append(s.Mounts, pm)
	}
	s.ExitCodes = op.ExitCodes
	s.Services = planServices(op)
	if op.TargetEnv {
		s.Env = append(s.Env, "TARGET*=<target platform>")
	}
}

func ownerString(o *Owner) string {
	if o.User != "" {
		return o.User + ":" + o.Group
	}
	return strconv.Itoa(o.UID) + ":" + strconv.Itoa(o.GID)
}

// String renders one step as a single line.
func (s PlanStep) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s", s.Index, s.Op)
	for _, a := range s.Args {
		b.WriteByte(' ')
		b.WriteString(quoteArg(a))
	}
	if len(s.Inputs) > 0 {
		b.WriteString(" <-")
		for _, i := range s.Inputs {
			fmt.Fprintf(&b, " #%d", i)
		}
	}
	if s.Workdir != "" {
		b.WriteString(" workdir=" + s.Workdir)
	}
	if s.User != "" {
		b.WriteString(" user=" + s.User)
	}
	if len(s.Env) > 0 {
		b.WriteString(" env=[" + strings.Join(s.Env, " ") + "]")
	}
	if len(s.SecretEnv) > 0 {
		b.WriteString(" secretenv=[" + strings.Join(s.SecretEnv, " ") + "]")
	}
	for _, m := range s.Mounts {
		b.WriteString(" mount=" + m.String())
	}
	if s.Proxy {
		b.WriteString(" proxy")
	}
	if s.NoNetwork {
		b.WriteString(" network=none")
	}
	for _, svc := range s.Services {
		b.WriteString(" service=" + svc.String())
	}
	if len(s.ExitCodes) > 0 {
		fmt.Fprintf(&b, " exitcodes=%v", s.ExitCodes)
	}
	if s.Platform != "" {
		b.WriteString(" platform=" + s.Platform)
	}
	b.WriteString(" @ " + s.Location)
	return b.String()
}

// String renders a mount as target:kind:detail.
func (m PlanMount) String() string {
	s := m.Target + ":" + m.Kind
	switch m.Kind {
	case "cache":
		s += ":" + m.Cache + ":" + m.Sharing
	case "secret":
		s += ":" + m.Secret
	case "dir", "file":
		s += fmt.Sprintf(":#%d%s", m.Input, m.Path)
	}
	return s
}

// String renders the image config a program sets.
func (img *PlanImage) String() string {
	var parts []string
	if img.Base != "" {
		parts = append(parts, "base="+img.Base)
	}
	if img.User != "" {
		parts = append(parts, "user="+img.User)
	}
	if img.Workdir != "" {
		parts = append(parts, "workdir="+img.Workdir)
	}
	if len(img.Env) > 0 {
		parts = append(parts, "env=["+strings.Join(img.Env, " ")+"]")
	}
	if img.SetEntry {
		parts = append(parts, "entrypoint="+quoteList(img.Entrypoint))
	}
	if img.SetCmd {
		parts = append(parts, "cmd="+quoteList(img.Cmd))
	}
	for _, k := range slices.Sorted(maps.Keys(img.Labels)) {
		parts = append(parts, "label:"+k+"="+quoteArg(img.Labels[k]))
	}
	for _, p := range img.Ports {
		parts = append(parts, "port="+p)
	}
	for _, k := range slices.Sorted(maps.Keys(img.Annotations)) {
		parts = append(parts, "annotation:"+k+"="+quoteArg(img.Annotations[k]))
	}
	return "image " + strings.Join(parts, " ")
}

// String renders the whole plan, one line per step.
func (p *Plan) String() string {
	if p.Err != nil {
		return "error: " + p.Err.Error() + "\n"
	}
	var b strings.Builder
	for _, s := range p.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	if p.Image != nil {
		b.WriteString(p.Image.String())
		b.WriteByte('\n')
	}
	if p.Output != "" {
		b.WriteString("output " + p.Output + "\n")
	}
	return b.String()
}

func quoteList(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, ",") + "]"
}

func quoteArg(a string) string {
	if a == "" || strings.ContainsAny(a, " \t\n\"'\\[]") {
		return strconv.Quote(a)
	}
	return a
}
