package llb

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
)

// id is n's step identity: "OP-" and a hash of everything that determines
// n's output: its operation, every argument (env, workdir, user, mounts,
// files' contents, platform…) and its inputs' identities. Two steps differ
// in identity exactly when they differ in what they do, so each step keeps
// its own call site in progress and errors. The call site itself is not
// part of it (moving a Go line changes no identity), nor are proxy
// settings and secret values, which never enter a step's identity.
func (c *compiler) id(n *Node) string {
	i, known := c.index[n]
	if known && c.nodes[i].id != "" {
		return c.nodes[i].id
	}
	// The hasher takes the compiler's buffer; an identity computed
	// meanwhile (an input's) gets a buffer of its own.
	h := idHasher{b: c.idBuf[:0]}
	c.idBuf = nil
	h.str(n.Op.opName())
	switch op := n.Op.(type) {
	case *ImageOp:
		h.str(op.Ref)
		h.platform(c, op.Platform)
	case *LocalOp:
		h.str(op.Given)
		h.strs(op.Include)
		h.strs(op.Exclude)
		h.flag(op.NoDockerignore)
	case *GitOp:
		h.str(op.URL)
		h.str(op.Ref)
		h.flag(op.KeepGitDir)
	case *HTTPOp:
		h.str(op.URL)
		h.str(c.checksumOf(op))
		h.str(op.Filename)
		h.mode(op.Mode)
	case *ExecOp:
		c.execIdentity(&h, op)
	case *CopyOp:
		h.str(c.nodeID(op.Dest))
		h.str(op.DestPath)
		h.str(c.nodeID(op.Src))
		h.str(op.SrcPath)
		h.flag(op.File)
		h.owner(op.Opts.Owner)
		h.flag(op.Opts.Mode != nil)
		if op.Opts.Mode != nil {
			h.mode(*op.Opts.Mode)
		}
		h.strs(op.Opts.Include)
		h.strs(op.Opts.Exclude)
	case *MkfileOp:
		h.str(c.nodeID(op.Dest))
		h.str(op.Path)
		sum := sha256.Sum256(op.Data)
		h.str(string(sum[:]))
		h.mode(op.Mode)
		h.owner(op.Owner)
	case *MkdirOp:
		h.str(c.nodeID(op.Dest))
		h.str(op.Path)
		h.mode(op.Mode)
		h.owner(op.Owner)
	case *RmOp:
		h.str(c.nodeID(op.Dest))
		h.str(op.Path)
	}
	sum := sha256.Sum256(h.b)
	c.idBuf = h.b
	name := n.Op.opName()
	buf := make([]byte, len(name)+1+16)
	copy(buf, name)
	buf[len(name)] = '-'
	hex.Encode(buf[len(name)+1:], sum[:8])
	id := string(buf)
	if known {
		c.nodes[i].id = id
	}
	return id
}

func (c *compiler) execIdentity(h *idHasher, op *ExecOp) {
	h.str(c.nodeID(op.Base))
	if op.Image != nil {
		h.str(op.Image.Ref)
	}
	h.strs(op.Args)
	h.num(len(op.Env))
	for _, e := range op.Env {
		h.str(e.Name)
		h.str(e.Value)
	}
	h.str(op.Workdir)
	h.str(op.User)
	h.num(len(op.Mounts))
	for _, m := range op.Mounts {
		h.str(m.Target)
		h.num(int(m.Kind))
		h.str(m.CacheID)
		h.num(int(m.Sharing))
		h.owner(m.Owner)
		h.str(c.nodeID(m.Source))
		h.str(m.Path)
		if m.Secret != nil {
			h.str(m.Secret.Name)
		}
		h.str(m.SSHID)
		h.mode(m.Mode)
	}
	h.num(len(op.SecretEnv))
	for _, se := range op.SecretEnv {
		h.str(se.Name)
		h.str(se.Secret.Name)
	}
	h.flag(!op.Proxy.Empty())
	h.flag(op.Proxy != nil && op.Proxy.CABundle != "")
	h.num(len(op.ExitCodes))
	for _, code := range op.ExitCodes {
		h.num(code)
	}
	h.flag(op.NoNetwork)
	h.flag(op.TargetEnv)
	if op.TargetEnv {
		h.platform(c, Platform{})
	}
	h.platform(c, op.Platform)
	h.flag(op.Insecure)
	if len(op.Services) > 0 {
		h.num(len(op.Services))
		for _, b := range op.Services {
			h.str(b.Alias)
			h.str(c.serviceID(b.Service))
		}
	}
}

// nodeID is the identity of an input; "" for none (scratch).
func (c *compiler) nodeID(n *Node) string {
	if n == nil {
		return ""
	}
	return c.id(n)
}

// idHasher collects length-prefixed fields, so that no two different
// sequences of fields hash alike; the identity is the hash of all of them.
type idHasher struct {
	b []byte
}

func (h *idHasher) num(v int) {
	h.b = binary.AppendVarint(h.b, int64(v))
}

func (h *idHasher) str(s string) {
	h.num(len(s))
	h.b = append(h.b, s...)
}

func (h *idHasher) strs(ss []string) {
	h.num(len(ss))
	for _, s := range ss {
		h.str(s)
	}
}

func (h *idHasher) flag(b bool) {
	if b {
		h.num(1)
	} else {
		h.num(0)
	}
}

func (h *idHasher) mode(m os.FileMode) { h.num(int(m)) }

func (h *idHasher) owner(o *Owner) {
	h.flag(o != nil)
	if o != nil {
		h.num(o.UID)
		h.num(o.GID)
		h.str(o.User)
		h.str(o.Group)
	}
}

func (h *idHasher) platform(c *compiler, p Platform) {
	pl := c.platform(p)
	h.str(pl.OS)
	h.str(pl.Architecture)
	h.str(pl.Variant)
}
