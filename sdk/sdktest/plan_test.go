package sdktest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

func release() *sdk.Container {
	build := sdk.From("golang:1.26").
		WithWorkdir("/src").
		WithDirectory("/src", sdk.NewDirectory().WithNewFile("main.go", "package main\nfunc main() {}\n")).
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
		WithMountedSecret("/run/secrets/netrc", sdk.SecretFromValue("netrc", "machine x password y")).
		WithProxy(sdk.Proxy{HTTPS: "http://proxy:3128"}).
		WithExec([]string{"go", "test", "./..."}).
		WithExec([]string{"go", "build", "-o", "/out/app", "."}, sdk.Env("CGO_ENABLED", "0"))
	return sdk.From("debian:bookworm-slim").
		WithFile("/app", build.File("/out/app")).
		WithUser("10001").
		WithEntrypoint("/app").
		WithExposedPort(8080)
}

// The five-line test the package promises.
func TestReleaseImage(t *testing.T) {
	p := sdktest.PlanOf(release())
	p.RequireNonRoot(t)
	p.Exec(t, "go", "build").RequireCacheMount(t, "/root/.cache/go-build")
	p.RequireOrder(t, []string{"go", "test"}, []string{"go", "build"})
	p.RequireNoSecretInEnv(t)
}

func TestGolden(t *testing.T) {
	sdktest.Golden(t, release())
}

func TestPlanDetails(t *testing.T) {
	p := sdktest.PlanOf(release())
	require.NoError(t, p.Err())
	build := p.Exec(t, "go", "build")
	assert.True(t, build.HasEnv("CGO_ENABLED", "0"))
	assert.Equal(t, "/src", build.Workdir)
	assert.True(t, build.Proxy)
	build.RequireSecretMount(t, "/run/secrets/netrc", "netrc")
	assert.NotContains(t, p.String(), "password y", "secret values never appear in a plan")
	assert.Equal(t, []string{"8080/tcp"}, p.Image().Ports)
	_, ok := p.FindExec("make")
	assert.False(t, ok)
}

// The assertions must be able to fail: run each against a graph that breaks
// it and check the test is marked failed.
func TestAssertionsFail(t *testing.T) {
	root := sdk.From("debian:bookworm").
		WithEnv("API_TOKEN", "x").
		WithExec([]string{"make"})
	cases := map[string]func(tb testing.TB){
		"non-root":     func(tb testing.TB) { sdktest.PlanOf(root).RequireNonRoot(tb) },
		"cache mount":  func(tb testing.TB) { sdktest.PlanOf(root).Exec(tb, "make").RequireCacheMount(tb, "/cache") },
		"missing exec": func(tb testing.TB) { sdktest.PlanOf(root).Exec(tb, "go") },
		"secret env":   func(tb testing.TB) { sdktest.PlanOf(root).RequireNoSecretInEnv(tb) },
		"no env":       func(tb testing.TB) { sdktest.PlanOf(root).RequireNoEnv(tb, "API_TOKEN") },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			ft := &fakeT{TB: t}
			func() {
				defer func() { _ = recover() }()
				f(ft)
			}()
			assert.True(t, ft.failed, "the assertion should have failed")
		})
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}
