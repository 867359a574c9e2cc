package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// pipeline is a multi-stage program touching most of the API.
func pipeline() *sdk.Container {
	src := sdk.NewDirectory().
		WithNewFile("go.mod", "module example.com/app\n").
		WithNewFile("main.go", "package main\nfunc main() {}\n")
	build := sdk.From("golang:1.26").
		WithWorkdir("/src").
		WithDirectory("/src", src).
		WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod")).
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build"), sdk.Locked).
		WithProxy(sdk.Proxy{HTTP: "http://proxy.internal:3128", NoProxy: "localhost"}).
		WithSecretEnv("NETRC_TOKEN", sdk.SecretFromValue("netrc", "hunter2")).
		WithEnv("CGO_ENABLED", "0").
		WithExec([]string{"go", "test", "./..."}).
		WithExec([]string{"go", "build", "-trimpath", "-o", "/out/app", "."})
	return sdk.From("debian:bookworm-slim").
		WithFile("/usr/local/bin/app", build.File("/out/app"), sdk.Permissions(0o755)).
		WithUser("10001").
		WithEntrypoint("/usr/local/bin/app").
		WithExposedPort(8080).
		WithLabel("org.opencontainers.image.title", "app")
}

// fakeResolver serves base image configs offline.
type fakeResolver map[string]ocispecs.Image

func (f fakeResolver) ResolveImageConfig(_ context.Context, ref string, _ ocispecs.Platform) (string, []byte, error) {
	img := f[ref]
	dt, err := json.Marshal(img)
	return "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", dt, err
}

func TestCompileIsDeterministic(t *testing.T) {
	first, err := compile(t, pipeline())
	require.NoError(t, err)
	for range 20 {
		p, err := compile(t, pipeline())
		require.NoError(t, err)
		require.Equal(t, first.Def.Def, p.Def.Def)
	}
}

func TestCompileInParallel(t *testing.T) {
	v := pipeline()
	want, err := compile(t, v)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				p, err := compile(t, v)
				if assert.NoError(t, err) {
					assert.Equal(t, want.Def.Def, p.Def.Def)
				}
			}
		})
	}
	wg.Wait()
}

func TestSecretsStayOutOfDefinition(t *testing.T) {
	p, err := compile(t, pipeline())
	require.NoError(t, err)
	for _, dt := range p.Def.Def {
		require.False(t, bytes.Contains(dt, []byte("hunter2")))
	}
	require.Len(t, p.Secrets, 1)
	assert.Equal(t, "netrc", p.Secrets[0].ID)
}

// TestBaseImageConfigInherited checks the image config merge: the base
// image's settings survive unless the program changes them.
func TestBaseImageConfigInherited(t *testing.T) {
	res := fakeResolver{"docker.io/library/tomcat:10.1": {Config: ocispecs.ImageConfig{
		Env:          []string{"PATH=/usr/local/tomcat/bin:/usr/bin", "CATALINA_HOME=/usr/local/tomcat"},
		WorkingDir:   "/usr/local/tomcat",
		Cmd:          []string{"catalina.sh", "run"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels:       map[string]string{"vendor": "apache"},
		User:         "tomcat",
	}}}
	c := sdk.From("tomcat:10.1").WithEnv("JAVA_OPTS", "-Xmx512m").WithLabel("app", "shop").WithExec([]string{"ls"})
	p, err := llb.CompileValue(t.Context(), c, llb.Options{Resolver: res})
	require.NoError(t, err)
	cfg := p.Image.Config
	assert.Equal(t, []string{"PATH=/usr/local/tomcat/bin:/usr/bin", "CATALINA_HOME=/usr/local/tomcat", "JAVA_OPTS=-Xmx512m"}, cfg.Env)
	assert.Equal(t, "/usr/local/tomcat", cfg.WorkingDir)
	assert.Equal(t, []string{"catalina.sh", "run"}, cfg.Cmd)
	assert.Equal(t, "tomcat", cfg.User)
	assert.Contains(t, cfg.ExposedPorts, "8080/tcp")
	assert.Equal(t, map[string]string{"vendor": "apache", "app": "shop"}, cfg.Labels)

	// The exec step sees the base env, workdir and user, and the base image
	// is pinned by digest.
	exec, from := decode(t, p)
	require.NotNil(t, exec)
	assert.Contains(t, exec.Meta.Env, "CATALINA_HOME=/usr/local/tomcat")
	assert.Contains(t, exec.Meta.Env, "JAVA_OPTS=-Xmx512m")
	assert.Equal(t, "/usr/local/tomcat", exec.Meta.Cwd)
	assert.Equal(t, "tomcat", exec.Meta.User)
	assert.Contains(t, from, "@sha256:0123456789abcdef")
}

func TestProxyStaysOutOfImageConfig(t *testing.T) {
	p, err := compile(t, pipeline())
	require.NoError(t, err)
	for _, e := range p.Image.Config.Env {
		assert.NotContains(t, e, "proxy.internal")
	}
	exec, _ := decode(t, p)
	require.NotNil(t, exec.Meta.ProxyEnv, "the proxy reaches the exec step through BuildKit's proxy env, outside the cache key")
	assert.Equal(t, "http://proxy.internal:3128", exec.Meta.ProxyEnv.HttpProxy)
	for _, e := range exec.Meta.Env {
		assert.NotContains(t, e, "proxy.internal")
	}
}

// decode returns the last exec op of a program and the ref of its first
// image source.
func decode(t *testing.T, p *llb.Program) (*pb.ExecOp, string) {
	t.Helper()
	var exec *pb.ExecOp
	var from string
	for _, dt := range p.Def.Def {
		var op pb.Op
		require.NoError(t, op.UnmarshalVT(dt))
		if e := op.GetExec(); e != nil {
			exec = e
		}
		if s := op.GetSource(); s != nil && from == "" && len(s.Identifier) > 9 && s.Identifier[:9] == "docker-im" {
			from = s.Identifier
		}
	}
	return exec, from
}

func TestImmutability(t *testing.T) {
	base := sdk.From("debian:bookworm").WithEnv("A", "1")
	a := base.WithEnv("B", "2")
	b := base.WithEnv("C", "3")
	pa, pb2 := planText(a), planText(b)
	assert.Contains(t, pa, "B=2")
	assert.NotContains(t, pa, "C=3")
	assert.Contains(t, pb2, "C=3")
	assert.NotContains(t, planText(base), "B=2")
}
