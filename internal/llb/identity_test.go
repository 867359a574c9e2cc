package llb

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoSteps compiles base -> a and base -> b side by side (both hang off one
// copy step, so both are in the graph) and returns the two steps.
func twoSteps(t *testing.T, a, b Op) (Step, Step) {
	t.Helper()
	base := &Node{Op: &ImageOp{Ref: "docker.io/library/debian:bookworm", Given: "debian:bookworm"}, Loc: Location{File: "ci/main.go", Line: 1}}
	setBase(a, base)
	setBase(b, base)
	na := &Node{Op: a, Loc: Location{File: "ci/main.go", Line: 10}}
	nb := &Node{Op: b, Loc: Location{File: "ci/main.go", Line: 20}}
	join := &Node{Op: &CopyOp{Dest: na, DestPath: "/b", Src: nb, SrcPath: "/", File: false}, Loc: Location{File: "ci/main.go", Line: 30}}
	p, err := Compile(t.Context(), &Container{Root: join}, Options{})
	require.NoError(t, err)
	var sa, sb Step
	for _, s := range p.Steps {
		switch s.Location {
		case "ci/main.go:10":
			sa = s
		case "ci/main.go:20":
			sb = s
		}
	}
	require.NotEmpty(t, sa.ID, "the step made at line 10 is in the step table: %v", p.Steps)
	require.NotEmpty(t, sb.ID, "the step made at line 20 is in the step table: %v", p.Steps)
	return sa, sb
}

func setBase(op Op, base *Node) {
	switch op := op.(type) {
	case *ExecOp:
		op.Base = base
	case *MkfileOp:
		op.Dest = base
	}
}

// Steps that differ in any input have their own identity and call site.
func TestEveryStepHasItsOwnIdentity(t *testing.T) {
	t.Parallel()
	args := []string{"sh", "-c", "env"}
	cases := map[string][2]Op{
		"env": {
			&ExecOp{Args: args, Env: []EnvVar{{"A", "1"}}},
			&ExecOp{Args: args, Env: []EnvVar{{"A", "2"}}},
		},
		"file contents": {
			&MkfileOp{Path: "/f", Data: []byte("one"), Mode: 0o644},
			&MkfileOp{Path: "/f", Data: []byte("two"), Mode: 0o644},
		},
		"workdir": {
			&ExecOp{Args: args, Workdir: "/a"},
			&ExecOp{Args: args, Workdir: "/b"},
		},
		"user": {
			&ExecOp{Args: args, User: "1"},
			&ExecOp{Args: args, User: "2"},
		},
		"cache volume": {
			&ExecOp{Args: args, Mounts: []Mount{{Target: "/c", Kind: MountCache, CacheID: "one"}}},
			&ExecOp{Args: args, Mounts: []Mount{{Target: "/c", Kind: MountCache, CacheID: "two"}}},
		},
		"secret": {
			&ExecOp{Args: args, SecretEnv: []SecretEnv{{Name: "T", Secret: &Secret{Name: "one", Value: []byte("x")}}}},
			&ExecOp{Args: args, SecretEnv: []SecretEnv{{Name: "T", Secret: &Secret{Name: "two", Value: []byte("x")}}}},
		},
		"exit codes": {
			&ExecOp{Args: args},
			&ExecOp{Args: args, ExitCodes: []int{0, 1}},
		},
		"network": {
			&ExecOp{Args: args},
			&ExecOp{Args: args, NoNetwork: true},
		},
		"file mode": {
			&MkfileOp{Path: "/f", Data: []byte("one"), Mode: 0o644},
			&MkfileOp{Path: "/f", Data: []byte("one"), Mode: 0o755},
		},
	}
	for name, ops := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, b := twoSteps(t, ops[0], ops[1])
			assert.NotEqual(t, a.ID, b.ID, "steps that differ in %s share an identity", name)
			assert.Equal(t, "ci/main.go:10", a.Location)
			assert.Equal(t, "ci/main.go:20", b.Location)
		})
	}
}

// A step's identity does not depend on where in Go it was made, nor on
// secret values or proxy settings.
func TestIdentityIgnoresCallSiteSecretValuesAndProxy(t *testing.T) {
	t.Parallel()
	id := func(loc Location, secret string, proxy *Proxy) string {
		base := &Node{Op: &ImageOp{Ref: "docker.io/library/debian:bookworm", Given: "debian:bookworm"}, Loc: loc}
		n := &Node{Op: &ExecOp{Base: base, Args: []string{"true"}, Proxy: proxy,
			SecretEnv: []SecretEnv{{Name: "T", Secret: &Secret{Name: "token", Value: []byte(secret)}}}}, Loc: loc}
		return newCompiler(t.Context(), Options{}).id(n)
	}
	first := id(Location{File: "ci/main.go", Line: 1}, "s3cr3t-one", &Proxy{HTTP: "http://user:pw@proxy:3128"})
	assert.Equal(t, first, id(Location{File: "ci/other.go", Line: 99}, "s3cr3t-two", &Proxy{HTTP: "http://other:3128"}))
	assert.True(t, strings.HasPrefix(first, "exec-"), first)
}
