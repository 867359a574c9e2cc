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

// postOrder lists the graph under root, every node after its inputs,
// without recursion.
func postOrder(root *Node) []*Node {
	type frame struct {
		n    *Node
		next int
	}
	var out []*Node
	seen := map[*Node]bool{}
	stack := []frame{{n: root}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.n == nil || (top.next == 0 && seen[top.n]) {
			stack = stack[:len(stack)-1]
			continue
		}
		seen[top.n] = true
		in := inputs(top.n)
		if top.next < len(in) {
			child := in[top.next]
			top.next++
			if child != nil && !seen[child] {
				stack = append(stack, frame{n: child})
			}
			continue
		}
		out = append(out, top.n)
		stack = stack[:len(stack)-1]
	}
	return out
}
