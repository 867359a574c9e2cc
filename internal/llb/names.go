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
		return "exec " + shellJoin(op.Args)
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
func shellJoin(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\") {
			b.WriteString(strconv.Quote(a))
		} else {
			b.WriteString(a)
		}
		if b.Len() > 120 {
			break
		}
	}
	s := b.String()
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
