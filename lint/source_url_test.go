package lint_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/sdk"
)

// TestFindingsNeverShowURLCredentials: a credential in a source's URL is
// reported, and no finding shows it (text or JSON): before, the
// download-unverified and git-unpinned messages printed the URL whole.
func TestFindingsNeverShowURLCredentials(t *testing.T) {
	t.Parallel()
	const sentinel = "s3cr3t-sentinel"
	v := clean().
		WithFile("/a", sdk.HTTP("https://ci:"+sentinel+"@x.example/a", "")).
		WithFile("/b", sdk.HTTP("https://x.example/b?token="+sentinel, "")).
		WithDirectory("/g", sdk.Git("https://ci:"+sentinel+"@git.example.com/r.git", "main"))
	r, err := lint.Run(v)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, r.WriteText(&out))
	require.NoError(t, r.WriteJSON(&out))
	assert.NotContains(t, out.String(), sentinel)
	rules := map[lint.Rule]int{}
	for _, f := range r.Findings() {
		rules[f.Rule]++
	}
	assert.Equal(t, 3, rules[lint.SecretArg], "%v", r.Findings())
	assert.Equal(t, 2, rules[lint.DownloadUnverified])
	assert.Equal(t, 1, rules[lint.GitUnpinned])
	assert.Contains(t, out.String(), "https://xxxxx@x.example/a")
}
