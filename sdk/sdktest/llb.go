package sdktest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"

	"github.com/ladingbuild/lading/internal/llb"
)

// llbHeader starts the compiled section of a golden file.
const llbHeader = "-- llb: the compiled definition, one op per line (kind, summary, inputs, digest)"

// renderLLB compiles the value offline (no resolver, linux/amd64 for both
// the target and the build platform) and lists each op of the definition:
// its kind, a short summary, its inputs and a digest of its bytes. Any
// change the compiler makes to an op changes its digest, so a golden file
// shows it.
//
// The digests are of the ops after one normalization, so that they do not
// depend on where the checkout lives: a host directory's name and shared
// key (hashes of its absolute path) become "host-1", "host-2"… in order of
// first use, and every digest is recomputed from the normalized inputs.
func renderLLB(prog *llb.Program) (string, error) {
	var b strings.Builder
	b.WriteString(llbHeader + "\n")
	index := map[string]int{}      // original digest -> line number
	renamed := map[string]string{} // original digest -> normalized digest
	hosts := map[string]string{}   // local name -> host-N
	for i, dt := range prog.Def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			return "", fmt.Errorf("decoding op %d of the definition: %w", i+1, err)
		}
		orig := string(digest.FromBytes(dt))
		var ins []string
		for _, in := range op.Inputs {
			n, ok := index[in.Digest]
			if !ok {
				return "", fmt.Errorf("op %d reads %s, which the definition lists later", i+1, in.Digest)
			}
			in.Digest = renamed[in.Digest]
			ins = append(ins, "#"+strconv.Itoa(n))
		}
		if src := op.GetSource(); src != nil {
			normalizeLocal(src, hosts)
		}
		norm, err := proto.MarshalOptions{Deterministic: true}.Marshal(&op)
		if err != nil {
			return "", fmt.Errorf("encoding op %d: %w", i+1, err)
		}
		d := digest.FromBytes(norm)
		index[orig], renamed[orig] = i+1, string(d)
		fmt.Fprintf(&b, "#%d %s", i+1, summarize(&op))
		if len(ins) > 0 {
			b.WriteString(" <- " + strings.Join(ins, " "))
		}
		b.WriteString(" " + d.Encoded()[:16] + "\n")
	}
	return b.String(), nil
}

// normalizeLocal replaces a host directory's path-derived name with a
// stable one.
func normalizeLocal(src *pb.SourceOp, hosts map[string]string) {
	name, ok := strings.CutPrefix(src.Identifier, "local://")
	if !ok {
		return
	}
	h, seen := hosts[name]
	if !seen {
		h = "host-" + strconv.Itoa(len(hosts)+1)
		hosts[name] = h
	}
	src.Identifier = "local://" + h
	for k, v := range src.Attrs {
		if k == pb.AttrSharedKeyHint || strings.Contains(v, name) {
			src.Attrs[k] = h
		}
	}
}

// summarize names an op's kind and its main arguments.
func summarize(op *pb.Op) string {
	switch o := op.Op.(type) {
	case *pb.Op_Source:
		return "source " + o.Source.Identifier
	case *pb.Op_Exec:
		return "exec " + strconv.Quote(strings.Join(o.Exec.GetMeta().GetArgs(), " "))
	case *pb.Op_File:
		var acts []string
		for _, a := range o.File.Actions {
			switch a := a.Action.(type) {
			case *pb.FileAction_Copy:
				acts = append(acts, "copy "+a.Copy.Src+" "+a.Copy.Dest)
			case *pb.FileAction_Mkfile:
				acts = append(acts, "mkfile "+a.Mkfile.Path)
			case *pb.FileAction_Mkdir:
				acts = append(acts, "mkdir "+a.Mkdir.Path)
			case *pb.FileAction_Rm:
				acts = append(acts, "rm "+a.Rm.Path)
			default:
				acts = append(acts, "action")
			}
		}
		return "file " + strings.Join(acts, ", ")
	case *pb.Op_Merge:
		return "merge"
	case *pb.Op_Diff:
		return "diff"
	case *pb.Op_Build:
		return "build"
	case nil:
		return "output"
	}
	return "op"
}
