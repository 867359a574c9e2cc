package llb

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// hostKey names a host directory as the program wrote it, before the
// compiler narrows what is sent: two Host calls for the same directory with
// the same options share one upload.
type hostKey struct {
	path, include, exclude string
	noDockerignore         bool
}

func keyOf(op *LocalOp) hostKey {
	return hostKey{op.Path, strings.Join(op.Include, "\x00"), strings.Join(op.Exclude, "\x00"), op.NoDockerignore}
}

// hostUse is what a graph reads from one host directory: the paths under
// it that steps copy or mount, or the whole directory.
type hostUse struct {
	whole bool
	paths []string // relative, cleaned; only when !whole
}

// hostReads is what a graph reads of each of its host directories.
type hostReads map[hostKey]*hostUse

// HostSends returns, for the host directories of the model value m, the
// include patterns the compiler gives them: nil for a directory sent as
// the program wrote it (see hostReads.sent).
func HostSends(m Value) func(*LocalOp) []string {
	root, path := rootOf(m)
	return readsOf(postOrder(root), root, path).sent
}

// deriveHostUses records what the graph reads of each host directory.
func (c *compiler) deriveHostUses(order []*Node, root *Node, rootPath string) {
	c.hostUses = readsOf(order, root, rootPath)
}

// sentPaths is hostReads.sent for the compiled graph.
func (c *compiler) sentPaths(op *LocalOp) []string { return c.hostUses.sent(op) }

// readsOf finds, for every host directory in order, the paths the graph
// reads from it, so that only those are sent to the engine. A directory
// used whole (copied or mounted at its root, built on, or exported), or
// read through a path that is not plainly a file or directory on the host,
// is sent whole, as written. rootPath is the path the compiled value
// itself takes from root.
func readsOf(order []*Node, root *Node, rootPath string) hostReads {
	r := hostReads{}
	use := func(n *Node, p string) {
		if n == nil {
			return
		}
		op, ok := n.Op.(*LocalOp)
		if !ok {
			return
		}
		k := keyOf(op)
		u := r[k]
		if u == nil {
			u = &hostUse{}
			r[k] = u
		}
		if u.whole {
			return
		}
		rel := strings.TrimPrefix(path.Clean("/"+p), "/")
		if rel == "" || strings.ContainsAny(rel, `*?[]\!`) {
			u.whole, u.paths = true, nil
			return
		}
		u.paths = append(u.paths, rel)
	}
	whole := func(n *Node) { use(n, "/") }
	for _, n := range order {
		switch op := n.Op.(type) {
		case *ExecOp:
			whole(op.Base)
			for _, m := range op.Mounts {
				if m.Source != nil {
					use(m.Source, m.Path)
				}
			}
		case *CopyOp:
			whole(op.Dest)
			use(op.Src, op.SrcPath)
		default:
			for _, in := range inputs(n) {
				whole(in)
			}
		}
	}
	use(root, rootPath)
	return r
}

// rootOf is a model value's root node and the path the value takes from
// it.
func rootOf(m any) (*Node, string) {
	switch m := m.(type) {
	case *Container:
		return m.Root, "/"
	case *Directory:
		return m.Root, m.Path
	case *File:
		return m.Root, m.Path
	}
	return nil, "/"
}

// sent is the include list that sends only what the graph reads from the
// host directory of op, or nil to send it as the program wrote it. It
// narrows only a directory without Include options whose every read path
// exists on the host with no symbolic link on the way (the engine resolves
// links inside what it was sent, so a link could point at what was left
// out).
func (r hostReads) sent(op *LocalOp) []string {
	if len(op.Include) > 0 {
		return nil
	}
	u := r[keyOf(op)]
	if u == nil || u.whole || len(u.paths) == 0 {
		return nil
	}
	paths := slices.Clone(u.paths)
	slices.Sort(paths)
	paths = slices.Compact(paths)
	out := paths[:0]
	for _, p := range paths {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]+"/") {
			continue // inside a path already sent
		}
		if !plainHostPath(op.Path, p) {
			return nil
		}
		out = append(out, p)
	}
	return out
}

// plainHostPath says whether rel exists under dir with no symbolic link
// among its components.
func plainHostPath(dir, rel string) bool {
	p := dir
	for part := range strings.SplitSeq(rel, "/") {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return false
		}
	}
	return true
}
