package lint

import (
	"strconv"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// linter is one lint run over one model value.
type linter struct {
	s     *settings
	m     llb.Value
	root  *llb.Node
	nodes []*llb.Node // every step, each after its inputs
	// layer holds the steps whose output is the value's own filesystem
	// (the image's layers), not another stage's.
	layer   map[*llb.Node]bool
	secrets map[string]string // secret value -> secret name, for values the program gave
	steps   []Finding
	image   []Finding
	seen    map[string]bool
	clean   map[string]bool // env entries "NAME=value" already found clean
	// sends is what the compiler sends of each host directory: only the
	// paths the graph reads, or nil for the directory as written.
	sends func(*llb.LocalOp) []string
}

func newLinter(s *settings, m llb.Value) *linter {
	l := &linter{s: s, m: m, layer: map[*llb.Node]bool{}, secrets: map[string]string{}, seen: map[string]bool{}, clean: map[string]bool{}}
	switch m := m.(type) {
	case *llb.Container:
		l.root = m.Root
	case *llb.Directory:
		l.root = m.Root
	case *llb.File:
		l.root = m.Root
	}
	return l
}

// run walks the graph and checks every step, then the image config.
func (l *linter) run() {
	l.nodes = postOrder(l.root)
	l.sends = llb.HostSends(l.m)
	for n := l.root; n != nil; n = parent(n) {
		l.layer[n] = true
	}
	for _, n := range l.nodes {
		l.collectSecrets(n)
	}
	if c, ok := l.m.(*llb.Container); ok {
		l.checkImage(c) // first, so a step repeating an image finding is dropped
	}
	for _, n := range l.nodes {
		l.badAllows(n)
		l.checkStep(n)
	}
	if c, ok := l.m.(*llb.Container); ok && c.Root == nil {
		l.badAllows(c)
	}
}

// out is the findings: steps in build order, then the image config.
func (l *linter) out() []Finding {
	return append(append([]Finding(nil), l.steps...), l.image...)
}

func (l *linter) checkStep(n *llb.Node) {
	switch op := n.Op.(type) {
	case *llb.ImageOp:
		l.checkBase(n, op)
	case *llb.GitOp:
		l.checkGit(n, op)
	case *llb.HTTPOp:
		l.checkHTTP(n, op)
	case *llb.LocalOp:
		l.checkHost(n, op)
	case *llb.ExecOp:
		l.checkExec(n, op)
	case *llb.CopyOp:
		l.checkCopy(n, op)
	case *llb.MkfileOp:
		l.checkNewFile(n, op)
	}
}

// finding is a finding before its silence is looked up.
type finding struct {
	rule     Rule
	sev      Severity
	subject  string // what the finding is about; one finding per rule and subject
	msg, fix string
}

// report records a finding about step n.
func (l *linter) report(n *llb.Node, f finding) {
	l.add(&l.steps, n, n.Loc, describe(n), f)
}

// reportImage records a finding about the image config of the value.
func (l *linter) reportImage(c *llb.Container, f finding) {
	l.reportImageAt(c, llb.Location{}, f)
}

// reportImageAt reports a finding about the image config at the Go line
// of the setter that caused it, if known, else at the image's last step.
func (l *linter) reportImageAt(c *llb.Container, at llb.Location, f finding) {
	var key any = c
	loc := llb.Location{}
	if c.Root != nil {
		key, loc = c.Root, c.Root.Loc
	}
	if at.File != "" {
		loc = at
	}
	l.add(&l.image, key, loc, "image config", f)
}

func (l *linter) add(to *[]Finding, key any, loc llb.Location, step string, f finding) {
	id := string(f.rule) + "\x00" + f.subject
	if l.seen[id] {
		return
	}
	l.seen[id] = true
	out := Finding{Rule: f.rule, Severity: f.sev, Location: Location(loc), Step: l.redact(step), Message: f.msg, Fix: f.fix}
	if s, ok := silenced(key, f.rule); ok {
		out.Silenced, out.Reason, out.SilencedAt = true, s.reason, Location(s.at)
	}
	*to = append(*to, out)
}

// inputs are the steps n reads: its filesystem, copy sources and mounts.
func inputs(n *llb.Node) []*llb.Node {
	switch op := n.Op.(type) {
	case *llb.ExecOp:
		in := []*llb.Node{op.Base}
		for _, m := range op.Mounts {
			if m.Source != nil {
				in = append(in, m.Source)
			}
		}
		return in
	case *llb.CopyOp:
		return []*llb.Node{op.Dest, op.Src}
	}
	if p := parent(n); p != nil {
		return []*llb.Node{p}
	}
	return nil
}

// parent is the step whose filesystem n changes: nil for a source.
func parent(n *llb.Node) *llb.Node {
	switch op := n.Op.(type) {
	case *llb.ExecOp:
		return op.Base
	case *llb.CopyOp:
		return op.Dest
	case *llb.MkfileOp:
		return op.Dest
	case *llb.MkdirOp:
		return op.Dest
	case *llb.RmOp:
		return op.Dest
	}
	return nil
}

// origin is the source step a filesystem starts from.
func origin(n *llb.Node) *llb.Node {
	for n != nil {
		p := parent(n)
		if p == nil {
			return n
		}
		n = p
	}
	return nil
}

// postOrder lists the graph under root, every step after its inputs,
// without recursion (chains are thousands of steps deep).
func postOrder(root *llb.Node) []*llb.Node {
	if root == nil {
		return nil
	}
	type frame struct {
		n  *llb.Node
		in []*llb.Node
		i  int
	}
	var out []*llb.Node
	seen := map[*llb.Node]bool{root: true}
	stack := []frame{{n: root, in: inputs(root)}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.i < len(top.in) {
			c := top.in[top.i]
			top.i++
			if c != nil && !seen[c] {
				seen[c] = true
				stack = append(stack, frame{n: c, in: inputs(c)})
			}
			continue
		}
		out = append(out, top.n)
		stack = stack[:len(stack)-1]
	}
	return out
}

// describe names a step: its operation and main argument, clipped.
func describe(n *llb.Node) string {
	var s string
	switch op := n.Op.(type) {
	case *llb.ImageOp:
		s = "From " + strconv.Quote(op.Given)
	case *llb.LocalOp:
		s = "Host " + strconv.Quote(op.Given)
	case *llb.GitOp:
		s = "Git " + maskURL(op.URL) + "#" + op.Ref
	case *llb.HTTPOp:
		s = "HTTP " + maskURL(op.URL)
	case *llb.ExecOp:
		s = "WithExec " + strings.Join(op.Args, " ")
	case *llb.CopyOp:
		s = "copy " + op.SrcPath + " to " + op.DestPath
	case *llb.MkfileOp:
		s = "WithNewFile " + op.Path
	case *llb.MkdirOp:
		s = "WithNewDirectory " + op.Path
	case *llb.RmOp:
		s = "WithoutPath " + op.Path
	default:
		s = "scratch"
	}
	return clip(s, 100)
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	i := n - 3
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "..."
}
