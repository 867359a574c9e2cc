package llb

import (
	"strconv"
	"strings"
)

// stepName is a step's human-readable name, without its call site: progress
// shows it with the call site, the image history without.
func stepName(n *Node) string {
	switch op := n.Op.(type) {
	case *ImageOp:
		return "from " + op.Given
	case *LocalOp:
		return "host " + op.Given
	case *GitOp:
		return "git " + op.URL + "#" + op.Ref
	case *HTTPOp:
		return "http " + op.URL
	case *ExecOp:
		return joinArgs("exec ", op.Args)
	case *CopyOp:
		return "copy " + op.SrcPath + " " + op.DestPath
	case *MkfileOp:
		return "newfile " + op.Path
	case *MkdirOp:
		return "mkdir " + op.Path
	case *RmOp:
		return "rm " + op.Path
	}
	return n.Op.opName()
}

// shellJoin renders args as a command line, quoting where needed, at most
// 120 bytes.
func shellJoin(args []string) string { return joinArgs("", args) }

// joinArgs is prefix followed by shellJoin(args), built in one allocation.
func joinArgs(prefix string, args []string) string {
	const limit = 120
	var arr [160]byte
	b := append(arr[:0], prefix...)
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\") {
			b = strconv.AppendQuote(b, a)
		} else {
			b = append(b, a...)
		}
		if len(b)-len(prefix) > limit {
			break
		}
	}
	if len(b)-len(prefix) > limit {
		b = append(b[:len(prefix)+limit-3], "..."...)
	}
	return string(b)
}
