package llb

import (
	"context"

	"crypto/sha256"
	"encoding/hex"
	"github.com/distribution/reference"
	"strconv"
	"strings"
)

// StepInputs is one step of a value's graph with everything that decides
// its output, input by input, in the order an explanation names them: what
// the step itself was given first, then the steps it reads. It is what the
// engine records after a build and compares with the next one to say why a
// step ran. Secrets appear by name only, proxy settings not at all (they
// enter no step's identity).
type StepInputs struct {
	ID       string // the step's identity (identity.go)
	Op       string
	Name     string
	Location string // Go file:line that created the step
	// Parents are the identities of the steps this one reads, in inputs'
	// order (the filesystem it builds on first).
	Parents []string
	// Inputs are the step's own arguments, each a kind, a name and a value.
	Inputs []Input
	// Image is the normalized reference of a "from" step.
	Image string
	// Host is the directory a "host" step reads, patterns merged with its
	// .dockerignore.
	Host *LocalDir
	// SrcPath is the path a copy reads from its source (its second parent).
	SrcPath string
	// Selectors are, for each parent, the path the step reads of it (a
	// copy's source path, a mounted directory's path); "" for all of it.
	Selectors []string
}

// Input is one argument of a step.
type Input struct {
	// Kind says what the input is: "image" (an exec's base image), "arg", "env", "workdir", "user",
	// "mount", "cache", "sharing", "secret", "secret-env", "platform",
	// "path", "data", "option".
	Kind string
	// Name tells inputs of one kind apart (the env variable, the mount
	// target); empty when there is one of the kind.
	Name string
	// Value is the input's value, whole (a record bounds it, after the
	// engine has scrubbed the build's secrets from it). Never a secret
	// by reference: a secret mount or env names the secret only.
	Value string
}

// Inputs lists the steps of a model value (*Container, *Directory or *File)
// with their inputs, inputs first, without BuildKit and without resolving
// base images: only Platform and BuildPlatform of opt matter (they decide
// identities). It fails where Compile would refuse the value.
func Inputs(ctx context.Context, m any, opt Options) ([]StepInputs, error) {
	if err := Validate(m); err != nil {
		return nil, err
	}
	root, path := rootOf(m)
	c := newCompiler(ctx, opt)
	order := c.walk(root)
	c.deriveHostUses(order, root, path)
	out := make([]StepInputs, 0, len(order))
	for _, n := range order {
		if _, ok := n.Op.(ScratchOp); ok {
			continue
		}
		s, err := c.stepInputs(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *compiler) stepInputs(n *Node) (StepInputs, error) {
	s := StepInputs{ID: c.id(n), Op: n.Op.opName(), Name: stepName(n), Location: n.Loc.String()}
	in := inputList{}
	for _, p := range inputs(n) {
		s.Parents = append(s.Parents, c.nodeID(p))
	}
	s.Selectors = selectors(n, len(s.Parents))
	switch op := n.Op.(type) {
	case *ImageOp:
		s.Image = op.Ref
		in.add("arg", "ref", op.Ref)
		in.add("platform", "", c.platformString(op.Platform))
	case *LocalOp:
		dir, err := c.hostDir(n, op)
		if err != nil {
			return s, err
		}
		s.Host = &dir
		in.add("path", "", op.Path)
		in.add("option", "include", strings.Join(dir.Include, ","))
		in.add("option", "exclude", strings.Join(dir.Exclude, ","))
	case *GitOp:
		in.add("arg", "url", op.URL)
		in.add("arg", "ref", op.Ref)
		in.add("option", "keep-git-dir", strconv.FormatBool(op.KeepGitDir))
	case *HTTPOp:
		in.add("arg", "url", op.URL)
		in.add("arg", "checksum", c.checksumOf(op))
		in.add("arg", "filename", op.Filename)
		in.add("option", "mode", op.Mode.String())
	case *ExecOp:
		c.execInputs(&in, op)
	case *CopyOp:
		s.SrcPath = op.SrcPath
		in.add("path", "source", op.SrcPath)
		in.add("path", "destination", op.DestPath)
		in.add("option", "owner", ownerOrNone(op.Opts.Owner))
		if op.Opts.Mode != nil {
			in.add("option", "mode", op.Opts.Mode.String())
		}
		in.add("option", "include", strings.Join(op.Opts.Include, ","))
		in.add("option", "exclude", strings.Join(op.Opts.Exclude, ","))
	case *MkfileOp:
		in.add("path", "", op.Path)
		sum := sha256.Sum256(op.Data)
		in.add("data", "", "sha256:"+hex.EncodeToString(sum[:]))
		in.add("option", "mode", op.Mode.String())
		in.add("option", "owner", ownerOrNone(op.Owner))
	case *MkdirOp:
		in.add("path", "", op.Path)
		in.add("option", "mode", op.Mode.String())
		in.add("option", "owner", ownerOrNone(op.Owner))
	case *RmOp:
		in.add("path", "", op.Path)
	}
	s.Inputs = in.list
	return s, nil
}

func (c *compiler) execInputs(in *inputList, op *ExecOp) {
	if op.Image != nil {
		in.add("image", "", familiar(op.Image.Ref))
	}
	in.add("arg", "", shellQuote(op.Args))
	for _, e := range op.Env {
		in.add("env", e.Name, e.Value)
	}
	in.add("workdir", "", op.Workdir)
	in.add("user", "", op.User)
	for _, m := range op.Mounts {
		in.add("mount", m.Target, m.Kind.String()+mountDetail(m))
		if m.Kind == MountCache {
			in.add("cache", m.Target, m.CacheID)
			in.add("sharing", m.Target, m.Sharing.String())
			in.add("option", "owner of "+m.Target, ownerOrNone(m.Owner))
		}
	}
	for _, se := range op.SecretEnv {
		in.add("secret-env", se.Name, se.Secret.Name)
	}
	in.add("option", "proxy", strconv.FormatBool(!op.Proxy.Empty()))
	in.add("option", "ca-bundle", strconv.FormatBool(op.Proxy != nil && op.Proxy.CABundle != ""))
	codes := make([]string, len(op.ExitCodes))
	for i, code := range op.ExitCodes {
		codes[i] = strconv.Itoa(code)
	}
	in.add("option", "exit codes", strings.Join(codes, ","))
	in.add("option", "no network", strconv.FormatBool(op.NoNetwork))
	in.add("option", "insecure", strconv.FormatBool(op.Insecure))
	p := c.platformString(op.Platform)
	if op.TargetEnv {
		p += " (target " + c.platformString(Platform{}) + ")"
	}
	in.add("platform", "", p)
}

// selectors lists the path n reads of each of its inputs, in inputs'
// order.
func selectors(n *Node, count int) []string {
	sel := make([]string, count)
	switch op := n.Op.(type) {
	case *CopyOp:
		if count > 1 {
			sel[1] = op.SrcPath
		}
	case *ExecOp:
		i := 1
		for _, m := range op.Mounts {
			if m.Source != nil && i < count {
				sel[i] = m.Path
				i++
			}
		}
	}
	return sel
}

// mountDetail is what a mount reads beyond its kind: never a secret's value.
func mountDetail(m Mount) string {
	switch m.Kind {
	case MountSecret:
		return " " + m.Secret.Name + " mode " + m.Mode.String()
	case MountSSH:
		return " " + m.SSHID + " mode " + m.Mode.String()
	case MountDirectory, MountFile:
		return " " + m.Path
	}
	return ""
}

func (c *compiler) platformString(p Platform) string {
	pl := c.platform(p)
	s := pl.OS + "/" + pl.Architecture
	if pl.Variant != "" {
		s += "/" + pl.Variant
	}
	return s
}

// shellQuote renders args as one readable command line, every argument
// kept whole (unlike shellJoin, which shortens).
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quoteArg(a)
	}
	return strings.Join(q, " ")
}

// familiar is a normalized image reference in its short form
// ("golang:1.26"), one to one with the normalized one.
func familiar(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(named)
}

type inputList struct{ list []Input }

// add appends an input.
func (l *inputList) add(kind, name, value string) {
	l.list = append(l.list, Input{Kind: kind, Name: name, Value: value})
}

func ownerOrNone(o *Owner) string {
	if o == nil {
		return ""
	}
	return ownerString(o)
}
