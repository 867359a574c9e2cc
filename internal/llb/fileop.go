package llb

import (
	"path"

	bkllb "github.com/moby/buildkit/client/llb"
)

func (c *compiler) copy(n *Node, op *CopyOp) (bkllb.State, error) {
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
		ChownOpt:            chown(op.Opts.Owner),
	}
	if op.Opts.Mode != nil {
		info.Mode = &bkllb.ChmodOpt{Mode: *op.Opts.Mode}
	}
	return dest.File(bkllb.Copy(src, op.SrcPath, op.DestPath, info), c.record(n, stepName(n), []string{op.SrcPath, op.DestPath})), nil
}

func (c *compiler) mkfile(n *Node, op *MkfileOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	act := bkllb.Mkdir(path.Dir(op.Path), 0o755, bkllb.WithParents(true)).
		Mkfile(op.Path, op.Mode, op.Data, mkfileOwner(op.Owner)...)
	return dest.File(act, c.record(n, stepName(n), []string{op.Path})), nil
}

func (c *compiler) mkdir(n *Node, op *MkdirOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	opts := []bkllb.MkdirOption{bkllb.WithParents(true)}
	if co := chown(op.Owner); co != nil {
		opts = append(opts, co)
	}
	return dest.File(bkllb.Mkdir(op.Path, op.Mode, opts...), c.record(n, stepName(n), []string{op.Path})), nil
}

func (c *compiler) rm(n *Node, op *RmOp) (bkllb.State, error) {
	dest, err := c.state(op.Dest)
	if err != nil {
		return dest, err
	}
	return dest.File(bkllb.Rm(op.Path, bkllb.WithAllowNotFound(true)), c.record(n, stepName(n), []string{op.Path})), nil
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
