package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
)

// TestDownloadError reads both forms of BuildKit's checksum mismatch, and
// finds the download also when BuildKit names the URL a source policy
// rewrote it to (that one was missed before: a bare "digest mismatch").
func TestDownloadError(t *testing.T) {
	t.Parallel()
	a, b := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64)
	progs := []*lllb.Program{{Downloads: []lllb.Download{
		{URL: "https://ci:pw@example.com/tool", Checksum: a, Location: "ci/main.go:12"},
		{URL: "https://example.com/pinned", Given: b, Checksum: b, Location: "ci/main.go:13"},
	}}}
	g := &guard{mode: lock.Pinned, path: "ci/lading.lock"}
	for _, tc := range []struct{ name, msg, url, lockPath string }{
		{"with the URL", "digest mismatch for https://xxxxx:xxxxx@example.com/tool: " + b + " (expected: " + a + ")", "https://xxxxx:xxxxx@example.com/tool", "ci/lading.lock"},
		{"without the URL", "digest mismatch " + b + ": " + a, "https://xxxxx:xxxxx@example.com/tool", "ci/lading.lock"},
		{"a rewritten URL", "digest mismatch for https://mirror.example.com/tool: " + b + " (expected: " + a + ")", "https://xxxxx:xxxxx@example.com/tool", "ci/lading.lock"},
		{"the code's checksum", "digest mismatch for https://example.com/pinned: " + a + " (expected: " + b + ")", "https://example.com/pinned", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := g.downloadError(errors.New("build failed: "+tc.msg), progs)
			var changed *DownloadChangedError
			require.ErrorAs(t, err, &changed)
			assert.Equal(t, tc.url, changed.URL)
			assert.Equal(t, tc.lockPath, changed.Lock)
			assert.NotContains(t, err.Error(), "pw@")
		})
	}
	require.NoError(t, g.downloadError(errors.New("digest mismatch for x: "+a+" (expected: "+strings.Repeat("c", 10)+")"), progs))
	require.NoError(t, g.downloadError(errors.New("some other failure"), progs))
}
