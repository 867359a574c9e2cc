package benchgraph

import (
	"fmt"
	"testing"

	bkllb "github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
)

// opDigests lists the digests of a definition's ops: what BuildKit solves
// and caches.
func opDigests(def *bkllb.Definition) []digest.Digest {
	out := make([]digest.Digest, 0, len(def.Def))
	for _, dt := range def.Def {
		out = append(out, digest.FromBytes(dt))
	}
	return out
}

// TestGraphsAgree checks that both ways build the same graph, op for op,
// so that the compile benchmarks compare equal work.
func TestGraphsAgree(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 3, 10} {
		t.Run(fmt.Sprintf("steps=%d", n), func(t *testing.T) {
			t.Parallel()
			p, err := llb.CompileValue(t.Context(), SDK(n), llb.Options{})
			require.NoError(t, err)
			raw, err := Raw(n).Marshal(t.Context())
			require.NoError(t, err)
			assert.Equal(t, opDigests(raw), opDigests(p.Def), "the SDK graph and the raw llb graph differ")
		})
	}
}
