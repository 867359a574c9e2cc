package llb_test

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// httpAttrs are the attributes of the graph's HTTP source op for url.
func httpAttrs(t *testing.T, p *llb.Program, url string) map[string]string {
	t.Helper()
	for _, dt := range p.Def.Def {
		var op pb.Op
		require.NoError(t, proto.Unmarshal(dt, &op))
		if src := op.GetSource(); src != nil && src.GetIdentifier() == url {
			return src.GetAttrs()
		}
	}
	t.Fatalf("no source op for %s", url)
	return nil
}

// stepOf is the id of the program's step with the given op.
func stepOf(t *testing.T, p *llb.Program, op string) string {
	t.Helper()
	for _, s := range p.Steps {
		if s.Op == op {
			return s.ID
		}
	}
	t.Fatalf("no %s step", op)
	return ""
}

// TestLockedChecksumIsCompiled: a download without a checksum gets the
// one Options.Checksums gives in its op, its identity and the program's
// facts; a download with its own checksum keeps it.
func TestLockedChecksumIsCompiled(t *testing.T) {
	t.Parallel()
	const url = "https://example.com/tool"
	locked := "sha256:" + strings.Repeat("c", 64)
	sums := func(u string) (string, bool) { return locked, u == url }
	compile := func(v sdk.Value, opt llb.Options) *llb.Program {
		t.Helper()
		m, err := llb.ModelOf(v)
		require.NoError(t, err)
		p, err := llb.Compile(t.Context(), m, opt)
		require.NoError(t, err)
		return p
	}
	unpinned := sdk.HTTP(url, "")
	live := compile(unpinned, llb.Options{})
	pinned := compile(unpinned, llb.Options{Checksums: sums})
	assert.NotContains(t, httpAttrs(t, live, url), pb.AttrHTTPChecksum)
	assert.Equal(t, locked, httpAttrs(t, pinned, url)[pb.AttrHTTPChecksum])
	assert.NotEqual(t, stepOf(t, live, "http"), stepOf(t, pinned, "http"), "the step's identity follows the lock")
	assert.Equal(t, []llb.Download{{URL: url, Checksum: locked, Location: live.Downloads[0].Location}}, pinned.Downloads)
	assert.Contains(t, live.Downloads[0].Location, "download_test.go:")
	assert.Empty(t, live.Downloads[0].Checksum)

	own := "sha256:" + strings.Repeat("d", 64)
	code := compile(sdk.HTTP(url, own), llb.Options{Checksums: sums})
	assert.Equal(t, own, httpAttrs(t, code, url)[pb.AttrHTTPChecksum], "the program's checksum wins")
	assert.Equal(t, own, code.Downloads[0].Given)
}
