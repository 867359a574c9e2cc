package sdktest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

func proxied(url string) *sdk.Container {
	return sdk.From("golang:1.26").
		WithProxy(sdk.Proxy{HTTPS: url}).
		WithExec([]string{"go", "build", "./..."})
}

// TestGoldenTextShowsCompilerChanges: the golden text lists the compiled
// ops, so a difference the plan cannot show (here the proxy's URL, which
// the plan renders only as "proxy") still changes the golden text.
func TestGoldenTextShowsCompilerChanges(t *testing.T) {
	t.Parallel()
	a, b := proxied("http://proxy-a:3128"), proxied("http://proxy-b:3128")
	require.Equal(t, PlanOf(a).String(), PlanOf(b).String(), "the plans are the same")
	ta, tb := goldenText(t, a), goldenText(t, b)
	assert.Contains(t, ta, llbHeader)
	assert.Contains(t, ta, `exec "go build ./..."`)
	assert.NotEqual(t, ta, tb, "the compiled section must differ")
}

// TestGoldenTextIsDeterministic renders one value many times, in parallel.
func TestGoldenTextIsDeterministic(t *testing.T) {
	t.Parallel()
	v := sdk.From("debian:bookworm").
		WithLabel("b", "2").WithLabel("a", "1").
		WithMountedCache("/c", sdk.CacheVolume("c")).
		WithMountedSecret("/s", sdk.SecretFromValue("s", "v")).
		WithExec([]string{"true"}).
		WithNewFile("/f", "x")
	want := goldenText(t, v)
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() { got[i] = goldenText(t, v) })
	}
	wg.Wait()
	for _, g := range got {
		require.Equal(t, want, g)
	}
}

// TestGoldenTextDoesNotDependOnCheckoutPath: a host directory's LLB name
// is a hash of its absolute path; the golden text must be the same in two
// checkouts at different paths.
func TestGoldenTextDoesNotDependOnCheckoutPath(t *testing.T) {
	text := func(root string) string {
		require.NoError(t, os.MkdirAll(filepath.Join(root, "app"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "app", ".dockerignore"), []byte("bin/\n"), 0o644))
		t.Chdir(root)
		v := sdk.From("golang:1.26").WithDirectory("/src", sdk.Host("app")).WithExec([]string{"go", "build"})
		return goldenText(t, v)
	}
	one, two := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "checkout", "two")
	a, b := text(one), text(two)
	assert.Equal(t, a, b)
	assert.Contains(t, a, "local://host-1")
	assert.NotContains(t, a, one, "no absolute path in the golden text")
	assert.NotContains(t, b, two, "no absolute path in the golden text")
}
