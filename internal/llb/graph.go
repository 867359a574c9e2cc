package llb

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

// parent is the node whose filesystem n's output is built on (the one its
// layer goes on top of), or nil for a source.
func parent(n *Node) *Node {
	switch op := n.Op.(type) {
	case *ExecOp:
		return op.Base
	case *CopyOp:
		return op.Dest
	case *MkfileOp:
		return op.Dest
	case *MkdirOp:
		return op.Dest
	case *RmOp:
		return op.Dest
	}
	return nil
}

// finalExecNode is the last exec step on root's chain of parents, or nil.
func finalExecNode(root *Node) *Node {
	for n := root; n != nil; n = parent(n) {
		if _, ok := n.Op.(*ExecOp); ok {
			return n
		}
	}
	return nil
}

// inputAt is the i-th of the inputs n reads, in inputs' order but with
// nil for a mount without a source, and whether n has an i-th input.
func inputAt(n *Node, i int) (*Node, bool) {
	switch op := n.Op.(type) {
	case *ExecOp:
		if i == 0 {
			return op.Base, true
		}
		if i <= len(op.Mounts) {
			return op.Mounts[i-1].Source, true
		}
	case *CopyOp:
		switch i {
		case 0:
			return op.Dest, true
		case 1:
			return op.Src, true
		}
	case *MkfileOp:
		return op.Dest, i == 0
	case *MkdirOp:
		return op.Dest, i == 0
	case *RmOp:
		return op.Dest, i == 0
	}
	return nil, false
}

// postOrder lists the graph under root, every node after its inputs,
// without recursion.
func postOrder(root *Node) []*Node {
	order, _ := walk(root, false)
	return order
}

// walk is postOrder and, if positions is set, each node's position in it
// (postOrder alone keeps a plain set of the nodes seen, half the size).
func walk(root *Node, positions bool) ([]*Node, map[*Node]int32) {
	type frame struct {
		n    *Node
		next int
	}
	if root == nil {
		return nil, nil
	}
	// Size the tables for root's chain of parents, which is most of a
	// typical graph: growing them step by step costs twice their size.
	size := 0
	for n := root; n != nil; n = parent(n) {
		size++
	}
	var pos map[*Node]int32
	var seen map[*Node]struct{}
	if positions {
		pos = make(map[*Node]int32, size)
	} else {
		seen = make(map[*Node]struct{}, size)
	}
	// mark records n as seen and reports whether it was new.
	mark := func(n *Node) bool {
		if positions {
			if _, dup := pos[n]; dup {
				return false
			}
			pos[n] = -1
			return true
		}
		if _, dup := seen[n]; dup {
			return false
		}
		seen[n] = struct{}{}
		return true
	}
	out := make([]*Node, 0, size)
	stack := make([]frame, 1, size)
	stack[0] = frame{n: root}
	mark(root)
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if child, ok := inputAt(top.n, top.next); ok {
			top.next++
			if child != nil && mark(child) {
				stack = append(stack, frame{n: child})
			}
			continue
		}
		if positions {
			pos[top.n] = int32(len(out))
		}
		out = append(out, top.n)
		stack = stack[:len(stack)-1]
	}
	return out, pos
}
