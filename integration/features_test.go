package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// random returns a value no earlier run used.
func random(t *testing.T) string {
	t.Helper()
	return testenv.Token(t)
}

func TestExecSeesEnvWorkdirUser(t *testing.T) {
	eng, _ := connect(t)
	c := sdk.From("debian:bookworm").
		WithEnv("GREETING", "hi there").
		WithWorkdir("/work/dir").
		WithUser("nobody").
		WithExec([]string{"sh", "-c", `echo "$GREETING|$(pwd)|$(id -un)|$ONLY_HERE"`}, sdk.Env("ONLY_HERE", "step"))
	out, err := eng.Stdout(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, "hi there|/work/dir|nobody|step\n", out)

	stderr, err := eng.Stderr(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"sh", "-c", "echo oops >&2"}))
	require.NoError(t, err)
	assert.Equal(t, "oops\n", stderr)
}

func TestHostDirectoryHonoursDockerignore(t *testing.T) {
	eng, _ := connect(t)
	dir := t.TempDir()
	for name, body := range map[string]string{
		"keep.txt":      "keep",
		".env":          "SECRET=1",
		"logs/app.log":  "log",
		"bin/app":       "binary",
		"src/main.go":   "package main",
		".dockerignore": ".env\nlogs/\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	c := sdk.From("debian:bookworm").
		WithDirectory("/ctx", sdk.Host(dir, sdk.Exclude("bin/"))).
		WithExec([]string{"sh", "-c", "cd /ctx && find . -type f | sort"})
	out, err := eng.Stdout(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, "./.dockerignore\n./keep.txt\n./src/main.go\n", out)

	only := sdk.From("debian:bookworm").
		WithDirectory("/ctx", sdk.Host(dir, sdk.Include("src/"))).
		WithExec([]string{"sh", "-c", "cd /ctx && find . -type f | sort"})
	out, err = eng.Stdout(t.Context(), only)
	require.NoError(t, err)
	assert.Equal(t, "./src/main.go\n", out)
}

func TestMultiStageHandOff(t *testing.T) {
	eng, _ := connect(t)
	build := sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "mkdir -p /out/lib && echo binary > /out/app && echo lib > /out/lib/x.so"})
	final := sdk.From("debian:bookworm-slim").
		WithFile("/usr/local/bin/app", build.File("/out/app"), sdk.Permissions(0o755)).
		WithDirectory("/opt/lib", build.Directory("/out/lib")).
		WithExec([]string{"sh", "-c", "cat /usr/local/bin/app /opt/lib/x.so; stat -c %a /usr/local/bin/app"})
	out, err := eng.Stdout(t.Context(), final)
	require.NoError(t, err)
	assert.Equal(t, "binary\nlib\n755\n", out)
}

func TestCacheVolumePersistsAcrossBuilds(t *testing.T) {
	eng, _ := connect(t)
	cache := sdk.CacheVolume("it-" + random(t))
	value := random(t)
	write := sdk.From("debian:bookworm").
		WithMountedCache("/cache", cache).
		WithExec([]string{"sh", "-c", "echo " + value + " > /cache/v"})
	_, err := eng.Build(t.Context(), write)
	require.NoError(t, err)
	read := sdk.From("debian:bookworm").
		WithMountedCache("/cache", cache).
		WithExec([]string{"cat", "/cache/v"})
	out, err := eng.Stdout(t.Context(), read)
	require.NoError(t, err)
	assert.Equal(t, value+"\n", out)

	// The cache never ends up in the image.
	files, err := eng.Stdout(t.Context(), write.WithoutMount("/cache").WithExec([]string{"sh", "-c", "ls -A /cache 2>/dev/null; true"}))
	require.NoError(t, err)
	assert.Empty(t, files)
}

func TestSecretMountAndEnv(t *testing.T) {
	eng, env := connect(t)
	value := "s3cr3t-" + random(t)
	secret := sdk.SecretFromValue("it-token", value)
	c := sdk.From("debian:bookworm").
		WithMountedSecret("/run/secrets/token", secret).
		WithSecretEnv("TOKEN", secret).
		WithExec([]string{"sh", "-c", `test "$(cat /run/secrets/token)" = "$TOKEN" && echo "match: $TOKEN"`})
	out, err := eng.Stdout(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, "match: ***\n", out, "the value is scrubbed from the step's output")

	image := ref(env, t)
	dgst, err := eng.Publish(t.Context(), c, image)
	require.NoError(t, err)
	p := pull(t, env, image, dgst)
	assert.NotContains(t, string(p.Raw), value, "the secret is not in the config or its history")
	for _, layer := range p.Layers {
		assert.False(t, bytes.Contains(gunzip(t, layer), []byte(value)), "the secret is not in a layer")
	}
	_, err = eng.Stdout(t.Context(), sdk.From("debian:bookworm").WithSecretEnv("TOKEN", secret).
		WithExec([]string{"sh", "-c", `echo "bad $TOKEN" >&2; exit 3`}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), value, "the secret is not in an error")
}

func TestProxyVisibleInStepsButNotInImage(t *testing.T) {
	eng, env := connect(t)
	proxy := sdk.Proxy{HTTP: "http://user:pa55@proxy.invalid:3128", NoProxy: "localhost"}
	c := sdk.From("debian:bookworm").
		WithProxy(proxy).
		WithExec([]string{"sh", "-c", `echo "$HTTP_PROXY|$http_proxy|$NO_PROXY" > /seen`})
	out, err := eng.Stdout(t.Context(), c.WithExec([]string{"cat", "/seen"}))
	require.NoError(t, err)
	assert.Equal(t, "http://user:pa55@proxy.invalid:3128|http://user:pa55@proxy.invalid:3128|localhost\n", out)

	image := ref(env, t)
	dgst, err := eng.Publish(t.Context(), c, image)
	require.NoError(t, err)
	p := pull(t, env, image, dgst)
	assert.NotContains(t, string(p.Raw), "proxy.invalid", "no proxy in the image config or its history")

	// Changing only the proxy leaves every step cached.
	res, err := eng.Build(t.Context(), sdk.From("debian:bookworm").
		WithProxy(sdk.Proxy{HTTP: "http://other.invalid:8080"}).
		WithExec([]string{"sh", "-c", `echo "$HTTP_PROXY|$http_proxy|$NO_PROXY" > /seen`}))
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Ran, "%s", res.Summary)
}

func TestBaseConfigInheritedAndProgramConfigExported(t *testing.T) {
	eng, env := connect(t)
	c := sdk.From("golang:1.26").
		WithExec([]string{"sh", "-c", "go version > /version"}).
		WithEnv("APP_MODE", "prod").
		WithUser("10001:10001").
		WithEntrypoint("/usr/local/bin/app", "--serve").
		WithDefaultArgs("--port", "8080").
		WithExposedPort(8080).
		WithLabel("org.opencontainers.image.title", "it").
		WithAnnotation("org.opencontainers.image.revision", "abc123")
	image := ref(env, t)
	dgst, err := eng.Publish(t.Context(), c, image)
	require.NoError(t, err)
	p := pull(t, env, image, dgst)
	cfg := p.Config.Config
	assert.Contains(t, cfg.Env, "GOPATH=/go", "inherited from the golang image")
	assert.Contains(t, cfg.Env, "APP_MODE=prod")
	assert.Contains(t, strings.Join(cfg.Env, " "), "/usr/local/go/bin", "PATH from the base image")
	assert.Equal(t, "/go", cfg.WorkingDir, "inherited WORKDIR")
	assert.Equal(t, "10001:10001", cfg.User)
	assert.Equal(t, []string{"/usr/local/bin/app", "--serve"}, cfg.Entrypoint)
	assert.Equal(t, []string{"--port", "8080"}, cfg.Cmd)
	assert.Contains(t, cfg.ExposedPorts, "8080/tcp")
	assert.Equal(t, "it", cfg.Labels["org.opencontainers.image.title"])
	assert.Equal(t, "abc123", p.Manifest.Annotations["org.opencontainers.image.revision"])
	assert.Equal(t, "linux", p.Config.OS)
	assert.NotEmpty(t, p.Config.History, "the image keeps a history")
}

// gunzip decompresses a layer blob (or returns it as it is, if not gzip).
func gunzip(t *testing.T, dt []byte) []byte {
	t.Helper()
	return testenv.Gunzip(t, dt)
}

func TestNoNetworkStepHasOnlyItsOwnLoopback(t *testing.T) {
	eng, env := connect(t)
	probe := `if (exec 3<>/dev/tcp/` + strings.Replace(env.Registry, ":", "/", 1) + `) 2>/dev/null; then echo reachable; else echo isolated; fi`
	c := sdk.From("debian:bookworm")
	shared, err := eng.Stdout(t.Context(), c.WithExec([]string{"bash", "-c", probe}))
	require.NoError(t, err)
	assert.Equal(t, "reachable\n", shared, "steps share the engine host's network by default")
	own, err := eng.Stdout(t.Context(), c.WithExec([]string{"bash", "-c", probe}, sdk.NoNetwork()))
	require.NoError(t, err)
	assert.Equal(t, "isolated\n", own)
}
