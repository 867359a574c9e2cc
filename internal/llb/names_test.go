package llb

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// joinArgs renders exactly what shellJoin did before it was rewritten to
// allocate once: step names enter the image history, so a changed name
// would change image digests.
func TestJoinArgsMatchesShellJoin(t *testing.T) {
	t.Parallel()
	words := []string{"", "go", "build", "-o", "/out/app", "echo hi", "it's", `"q"`, "$HOME", `a\b`, "tab\tx", "new\nline", "ünï", strings.Repeat("x", 50), strings.Repeat("y z", 30)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		args := make([]string, rng.IntN(12))
		for i := range args {
			args[i] = words[rng.IntN(len(words))]
		}
		require.Equal(t, oldShellJoin(args), shellJoin(args), "%q", args)
		require.Equal(t, "exec "+oldShellJoin(args), joinArgs("exec ", args), "%q", args)
	}
}
