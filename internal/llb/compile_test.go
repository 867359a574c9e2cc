package llb

import (
	"slices"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

// chain builds scratch -> n new files, each on the previous one.
func chain(n int) *Node {
	root := &Node{Op: ScratchOp{}}
	for i := range n {
		root = &Node{Op: &MkfileOp{Dest: root, Path: "/f", Data: []byte{byte(i)}, Mode: 0o644}}
	}
	return root
}

func TestPostOrderPutsInputsFirst(t *testing.T) {
	base := &Node{Op: ScratchOp{}}
	src := &Node{Op: &MkfileOp{Dest: base, Path: "/a", Mode: 0o644}}
	dest := &Node{Op: &MkdirOp{Dest: base, Path: "/d", Mode: 0o755}}
	cp := &Node{Op: &CopyOp{Dest: dest, DestPath: "/d", Src: src, SrcPath: "/a", File: true}}
	exec := &Node{Op: &ExecOp{Base: cp, Args: []string{"true"}, Mounts: []Mount{{Target: "/m", Kind: MountDirectory, Source: src}}}}
	order := postOrder(exec)
	pos := map[*Node]int{}
	for i, n := range order {
		if _, dup := pos[n]; dup {
			t.Fatalf("node listed twice")
		}
		pos[n] = i
	}
	if len(order) != 5 {
		t.Fatalf("want 5 nodes, got %d", len(order))
	}
	for _, n := range order {
		for _, in := range inputs(n) {
			if pos[in] >= pos[n] {
				t.Fatalf("%s comes before its input %s", n.Op.opName(), in.Op.opName())
			}
		}
	}
}

// TestLongChainCompiles compiles a 20,000-step chain: the compiler itself
// must not recurse once per step.
func TestLongChainCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("long chain")
	}
	p, err := Compile(t.Context(), &File{Root: chain(20000), Path: "/f"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Def.Def) < 20000 {
		t.Fatalf("want at least 20000 ops, got %d", len(p.Def.Def))
	}
}

// Two identical exec steps share an identity; with RerunFinal only the
// final one gets LADING_RUN_ID, and FinalExec must name that op's digest
// every time (it once depended on map iteration order).
func TestFinalExecIsTheFinalStepsOp(t *testing.T) {
	t.Parallel()
	base := &Node{Op: &ImageOp{Ref: "docker.io/library/debian:bookworm", Given: "debian:bookworm"}}
	final := &Node{Op: &ExecOp{Base: base, Args: []string{"make"}}, Loc: Location{File: "ci/main.go", Line: 1}}
	twin := &Node{Op: &ExecOp{Base: base, Args: []string{"make"}}, Loc: Location{File: "ci/main.go", Line: 2}}
	root := &Node{Op: &CopyOp{Dest: final, DestPath: "/b", Src: twin, SrcPath: "/"}}
	for range 20 {
		p, err := Compile(t.Context(), &Container{Root: root}, Options{RerunFinal: true, RunID: "run-1"})
		require.NoError(t, err)
		want := ""
		for _, dt := range p.Def.Def {
			var op pb.Op
			require.NoError(t, op.Unmarshal(dt))
			if ex := op.GetExec(); ex != nil && slices.Contains(ex.Meta.Env, "LADING_RUN_ID=run-1") {
				want = digest.FromBytes(dt).String()
			}
		}
		require.NotEmpty(t, want, "the final step carries the run id")
		require.Equal(t, want, p.FinalExec)
	}
}
