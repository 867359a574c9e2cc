package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// These tests check the build graph itself, offline, in milliseconds.

var proxy = sdk.Proxy{HTTP: "http://proxy.corp:3128", HTTPS: "http://proxy.corp:3128", NoProxy: "localhost"}

func TestImageRunsAsNonRoot(t *testing.T) {
	t.Parallel()
	p := sdktest.PlanOf(Image(Build(sdk.Host("app"), proxy), "1.0"))
	p.RequireNonRoot(t)
	img := p.Image()
	assert.Equal(t, []string{"/usr/local/bin/hello"}, img.Entrypoint)
	assert.Equal(t, []string{"8080/tcp"}, img.Ports)
	assert.Equal(t, "1.0", img.Labels["org.opencontainers.image.version"])
}

func TestBuildCachesModulesAndBuilds(t *testing.T) {
	t.Parallel()
	p := sdktest.PlanOf(Build(sdk.Host("app"), proxy))
	for _, args := range [][]string{{"go", "mod", "download"}, {"go", "test"}, {"go", "build"}} {
		step := p.Exec(t, args...)
		step.RequireCacheMount(t, "/go/pkg/mod")
		step.RequireCacheMount(t, "/root/.cache/go-build")
		assert.True(t, step.Proxy, "%v should see the proxy", args)
	}
	p.RequireOrder(t, []string{"go", "mod", "download"}, []string{"go", "test"})
	p.RequireOrder(t, []string{"go", "test"}, []string{"go", "build"})
	assert.True(t, p.Exec(t, "go", "build").HasEnv("CGO_ENABLED", "0"), "the binary must be static")
}

// Building the image runs the tests: the binary it copies is built after
// them, in the same graph, so the program's build target needs one solve.
func TestImageRunsTheTests(t *testing.T) {
	t.Parallel()
	p := sdktest.PlanOf(Image(Build(sdk.Host("app"), proxy), "1.0"))
	require.NoError(t, p.Err())
	p.Exec(t, "go", "test")
	p.RequireOrder(t, []string{"go", "test"}, []string{"go", "build"})
}

func TestProxyNotInImage(t *testing.T) {
	t.Parallel()
	p := sdktest.PlanOf(Image(Build(sdk.Host("app"), proxy), "1.0"))
	p.RequireNoEnv(t, "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
	p.RequireNoSecretInEnv(t)
	assert.NotContains(t, p.Image().String(), "proxy.corp")
}

func TestGoldenPlan(t *testing.T) {
	t.Parallel()
	sdktest.Golden(t, Image(Build(sdk.Host("app"), proxy), "1.0"))
}

func TestGraphCompiles(t *testing.T) {
	t.Parallel()
	require.NoError(t, sdktest.PlanOf(Smoke(Image(Build(sdk.Host("app"), sdk.Proxy{}), "dev"))).Err())
}
