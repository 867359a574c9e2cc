package llb

import (
	"runtime/debug"
	"testing"
)

// fileChain is scratch followed by n new files, each step on the previous.
func fileChain(n int) *Node {
	root := &Node{Op: ScratchOp{}}
	for i := range n {
		root = &Node{Op: &MkfileOp{Dest: root, Path: "/f", Data: []byte{byte(i)}, Mode: 0o644}}
	}
	return root
}

// TestPlanDeepChainInSmallStack plans a 50,000-step chain with the
// goroutine stack capped at 16 MB: the planner must not recurse once per
// step (a recursive walk overflows and kills the test binary).
func TestPlanDeepChainInSmallStack(t *testing.T) {
	const steps = 50_000
	root := fileChain(steps)
	prev := debug.SetMaxStack(16 << 20)
	defer debug.SetMaxStack(prev)
	p := BuildPlan(&File{Root: root, Path: "/f"})
	if p.Err != nil {
		t.Fatal(p.Err)
	}
	if len(p.Steps) != steps+1 {
		t.Fatalf("want %d steps, got %d", steps+1, len(p.Steps))
	}
	for i, s := range p.Steps[1:] {
		if len(s.Inputs) != 1 || s.Inputs[0] != i+1 {
			t.Fatalf("step #%d reads %v, want [#%d]", s.Index, s.Inputs, i+1)
		}
	}
}

// TestPlanListsInputsFirst checks the plan's order and input numbering on
// a graph that shares a node between a copy and a mount.
func TestPlanListsInputsFirst(t *testing.T) {
	t.Parallel()
	base := &Node{Op: ScratchOp{}}
	src := &Node{Op: &MkfileOp{Dest: base, Path: "/a", Mode: 0o644}}
	dest := &Node{Op: &MkdirOp{Dest: base, Path: "/d", Mode: 0o755}}
	cp := &Node{Op: &CopyOp{Dest: dest, DestPath: "/d", Src: src, SrcPath: "/a", File: true}}
	exec := &Node{Op: &ExecOp{Base: cp, Args: []string{"true"}, Mounts: []Mount{{Target: "/m", Kind: MountDirectory, Source: src, Path: "/"}}}}
	got := BuildPlan(&Directory{Root: exec, Path: "/"}).String()
	want := `#1 scratch @ unknown
#2 mkdir /d mode=0755 <- #1 @ unknown
#3 newfile /a mode=0644 size=0 <- #1 @ unknown
#4 copy /a /d <- #2 #3 @ unknown
#5 exec true <- #4 mount=/m:dir:#3/ @ unknown
output /
`
	if got != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", got, want)
	}
}

// TestPlanRunsValidate: a plan reports what Compile would refuse before
// the daemon, here two different secrets under one name.
func TestPlanRunsValidate(t *testing.T) {
	t.Parallel()
	a, b := &Secret{Name: "tok", Value: []byte("1")}, &Secret{Name: "tok", Value: []byte("2")}
	exec := &Node{Op: &ExecOp{Base: &Node{Op: ScratchOp{}}, Args: []string{"true"},
		Mounts: []Mount{{Target: "/s", Kind: MountSecret, Secret: a}}, SecretEnv: []SecretEnv{{Name: "T", Secret: b}}}}
	c := &Container{Root: exec}
	p := BuildPlan(c)
	if p.Err == nil || len(p.Steps) != 0 {
		t.Fatalf("plan of an invalid value: err %v, %d steps", p.Err, len(p.Steps))
	}
	_, err := Compile(t.Context(), c, Options{})
	if err == nil || err.Error() != p.Err.Error() {
		t.Fatalf("compile says %v, the plan %v", err, p.Err)
	}
}

// TestCompileDeepChainInSmallStack compiles a 50,000-step chain in a 16 MB
// goroutine stack: the compiler and its definition writer walk the graph
// with explicit stacks, never one Go call per step.
func TestCompileDeepChainInSmallStack(t *testing.T) {
	if testing.Short() {
		t.Skip("long chain")
	}
	const steps = 50_000
	root := fileChain(steps)
	prev := debug.SetMaxStack(16 << 20)
	defer debug.SetMaxStack(prev)
	p, err := Compile(t.Context(), &File{Root: root, Path: "/f"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Def.Def) < steps {
		t.Fatalf("want at least %d ops, got %d", steps, len(p.Def.Def))
	}
}
