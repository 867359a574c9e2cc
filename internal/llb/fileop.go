package llb

import (
	"path"
	"strings"

	"github.com/moby/buildkit/solver/pb"
)

// File ops are written as client/llb's State.File marshals them for a
// state whose working directory is "/": relative paths are resolved
// against it, an op has no platform, and every action but the last skips
// its output.

func (c *compiler) copy(n *Node, op *CopyOp) (*vertex, error) {
	dest, src := c.vertex(op.Dest), c.vertex(op.Src)
	f := c.newFileOp()
	base := f.input(dest)
	cp := &pb.FileActionCopy{
		Src:             path.Join("/", path.Clean(op.SrcPath)),
		Dest:            normalizePath(op.DestPath, true),
		Owner:           pbChown(op.Opts.Owner, base),
		Mode:            -1,
		DirCopyContents: !op.File,
		CreateDestPath:  true,
		Timestamp:       -1,
		IncludePatterns: op.Opts.Include,
		ExcludePatterns: op.Opts.Exclude,
	}
	if op.Opts.Mode != nil {
		cp.Mode = int32(*op.Opts.Mode)
	}
	f.action(base, f.input(src), &pb.FileAction_Copy{Copy: cp})
	return c.stepVertex(n, &f, []string{op.SrcPath, op.DestPath}, dest, src)
}

// mkfile writes the new file's parent directories, then the file, in one
// op of two actions.
func (c *compiler) mkfile(n *Node, op *MkfileOp) (*vertex, error) {
	dest := c.vertex(op.Dest)
	f := c.newFileOp()
	base := f.input(dest)
	f.action(base, -1, &pb.FileAction_Mkdir{Mkdir: &pb.FileActionMkDir{
		Path: normalizePath(path.Dir(op.Path), false), Mode: 0o755, MakeParents: true, Timestamp: -1,
	}})
	f.action(f.previous(), -1, &pb.FileAction_Mkfile{Mkfile: &pb.FileActionMkFile{
		Path: normalizePath(op.Path, false), Mode: int32(op.Mode & 0o777), Data: op.Data,
		Owner: pbChown(op.Owner, base), Timestamp: -1,
	}})
	return c.stepVertex(n, &f, []string{op.Path}, dest, nil)
}

func (c *compiler) mkdir(n *Node, op *MkdirOp) (*vertex, error) {
	dest := c.vertex(op.Dest)
	f := c.newFileOp()
	base := f.input(dest)
	f.action(base, -1, &pb.FileAction_Mkdir{Mkdir: &pb.FileActionMkDir{
		Path: normalizePath(op.Path, false), Mode: int32(op.Mode & 0o777), MakeParents: true,
		Owner: pbChown(op.Owner, base), Timestamp: -1,
	}})
	return c.stepVertex(n, &f, []string{op.Path}, dest, nil)
}

func (c *compiler) rm(n *Node, op *RmOp) (*vertex, error) {
	dest := c.vertex(op.Dest)
	f := c.newFileOp()
	base := f.input(dest)
	f.action(base, -1, &pb.FileAction_Rm{Rm: &pb.FileActionRm{Path: normalizePath(op.Path, false), AllowNotFound: true}})
	return c.stepVertex(n, &f, []string{op.Path}, dest, nil)
}

// cacheOwner is the directory a cache mount with an owner starts from: an
// empty filesystem with /cache owned by the owner.
func (c *compiler) cacheOwner(m *Mount) (*vertex, error) {
	f := c.newFileOp()
	f.action(-1, -1, &pb.FileAction_Mkdir{Mkdir: &pb.FileActionMkDir{
		Path: "/cache", Mode: 0o755, Owner: pbChown(m.Owner, -1), Timestamp: -1,
	}})
	return c.fileVertex(&f, map[string]string{customName: "cache owner " + m.CacheID}, nil, nil)
}

// subdir is the output of a Directory below the root: its contents copied
// onto an empty filesystem.
func (c *compiler) subdir(out *vertex, dir string) (*vertex, error) {
	f := c.newFileOp()
	f.action(-1, f.input(out), &pb.FileAction_Copy{Copy: &pb.FileActionCopy{
		Src: path.Join("/", path.Clean(dir)), Dest: "/", Mode: -1, DirCopyContents: true, CreateDestPath: true, Timestamp: -1,
	}})
	return c.fileVertex(&f, map[string]string{customName: "directory " + dir}, out, nil)
}

// fileOp collects a file op's inputs and actions.
type fileOp struct {
	c       *compiler
	inputs  []*pb.Input
	actions []*pb.FileAction
}

// newFileOp starts a file op; it reuses the compiler's input buffer.
func (c *compiler) newFileOp() fileOp {
	c.resetInputs()
	return fileOp{c: c}
}

// input is the index of v's output among the op's inputs.
func (f *fileOp) input(v *vertex) int64 {
	var i int64
	f.inputs, i = f.c.addInput(f.inputs, v)
	return i
}

// previous is the input index that names the result of the last action.
func (f *fileOp) previous() int64 { return -2 - int64(len(f.actions)-1) }

func (f *fileOp) action(input, secondary int64, a pb.IsFileAction) {
	f.actions = append(f.actions, &pb.FileAction{Input: input, SecondaryInput: secondary, Output: int64(pb.SkipOutput), Action: a})
}

// stepVertex marshals the file op of step n.
func (c *compiler) stepVertex(n *Node, f *fileOp, args []string, dest, src *vertex) (*vertex, error) {
	name := stepName(n)
	v, err := c.fileVertex(f, c.describe(n, name, args), dest, src)
	if err != nil {
		return nil, err
	}
	v.name = name
	return v, nil
}

// fileVertex marshals the op; deps are the vertices it reads, in
// client/llb's order (the destination, then the copy's source).
func (c *compiler) fileVertex(f *fileOp, desc map[string]string, dest, src *vertex) (*vertex, error) {
	// An action reading an earlier action's result names it after the
	// inputs: len(inputs) + the action's index.
	for _, a := range f.actions {
		if a.Input <= -2 {
			a.Input = int64(len(f.inputs)) + (-2 - a.Input)
		}
	}
	f.actions[len(f.actions)-1].Output = 0
	pop := &pb.Op{Inputs: f.inputs, Op: &pb.Op_File{File: &pb.FileOp{Actions: f.actions}}, Constraints: &pb.WorkerConstraints{}}
	var deps []*vertex
	if dest != nil || src != nil {
		deps = addDep(addDep(make([]*vertex, 0, 2), dest), src)
	}
	return c.newVertex(pop, desc, capFileBase, deps)
}

// pbChown is client/llb's owner of a file action; base is the input whose
// /etc/passwd and /etc/group resolve names.
func pbChown(o *Owner, base int64) *pb.ChownOpt {
	if o == nil {
		return nil
	}
	co := &pb.ChownOpt{User: pbUser(o.UID, o.User, base)}
	if o.Group != "" || o.GID != 0 || o.User == "" {
		co.Group = pbUser(o.GID, o.Group, base)
	}
	return co
}

func pbUser(id int, name string, base int64) *pb.UserOpt {
	if name != "" {
		return &pb.UserOpt{User: &pb.UserOpt_ByName{ByName: &pb.NamedUserOpt{Name: name, Input: base}}}
	}
	return &pb.UserOpt{User: &pb.UserOpt_ByID{ByID: uint32(id)}}
}

// normalizePath is client/llb's normalizePath for the working directory
// "/": cleaned and absolute, keeping a trailing "/" or "/." of a copy's
// destination.
func normalizePath(p string, keepSlash bool) string {
	orig := p
	p = path.Clean(p)
	if !path.IsAbs(p) {
		p = path.Join("/", p)
	}
	if keepSlash {
		if strings.HasSuffix(orig, "/") && !strings.HasSuffix(p, "/") {
			p += "/"
		} else if strings.HasSuffix(orig, "/.") {
			if p != "/" {
				p += "/"
			}
			p += "."
		}
	}
	return p
}
