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
	order, _ := walk(root)
	return order
}

// walk is postOrder, and each node's position in it.
func walk(root *Node) ([]*Node, map[*Node]int32) {
	type frame struct {
		n    *Node
		next int
	}
	if root == nil {
		return nil, nil
	}
	out := make([]*Node, 0, 16)
	pos := make(map[*Node]int32, 16)
	stack := make([]frame, 1, 16)
	stack[0] = frame{n: root}
	pos[root] = -1
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if child, ok := inputAt(top.n, top.next); ok {
			top.next++
			if child != nil {
				if _, dup := pos[child]; !dup {
					pos[child] = -1
					stack = append(stack, frame{n: child})
				}
			}
			continue
		}
		pos[top.n] = int32(len(out))
		out = append(out, top.n)
		stack = stack[:len(stack)-1]
	}
	return out, pos
}
