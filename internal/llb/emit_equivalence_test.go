package llb_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// The compiler writes LLB ops itself; the State-based compiler it replaced
// (llb.CompileStates, kept as the oracle) marshals through client/llb.
// For every kind of step and option both must give the same program: the
// same op bytes in the same order (so the same digests and cache keys), the
// same metadata (progress names, step identities, caps) and the same facts.

// fakeResolver serves base image configs with env, workdir and user set, so
// that exec steps inherit them.
type fakeResolver struct{}

func (fakeResolver) ResolveImageConfig(_ context.Context, ref string, p ocispecs.Platform) (string, []byte, error) {
	img := ocispecs.Image{Platform: p}
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "GOPATH=/go"}
	switch ref {
	case "docker.io/library/golang:1.26":
		img.Config.WorkingDir = "/go"
	case "docker.io/library/tomcat:10":
		img.Config.WorkingDir = "usr/local/tomcat" // relative: client/llb makes it absolute
		img.Config.User = "tomcat"
		img.Config.Env = append(img.Config.Env, "PATH=/dup", "EMPTY=", "NOVALUE")
	}
	dt, err := json.Marshal(img)
	return "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", dt, err
}

// requireSameProgram compiles v both ways with opt and requires equal
// programs, or equal failures; it reports whether v compiled.
func requireSameProgram(t *testing.T, v sdk.Value, opt llb.Options) bool {
	t.Helper()
	ctx := t.Context()
	m, err := llb.ModelOf(v)
	require.NoError(t, err)
	want, werr := llb.CompileStates(ctx, m, opt)
	got, gerr := llb.Compile(ctx, m, opt)
	if werr != nil || gerr != nil {
		require.Error(t, werr, "the oracle fails too")
		require.Error(t, gerr, "the compiler fails too (oracle: %v)", werr)
		require.Equal(t, werr.Error(), gerr.Error())
		return false
	}
	require.Equal(t, want.Def.Def, got.Def.Def, "the same ops in the same order")
	require.Equal(t, want.Def.Metadata, got.Def.Metadata, "the same metadata")
	w, g := *want, *got
	w.Def, g.Def = nil, nil
	require.Equal(t, w, g, "the same facts")
	return true
}

type valueCase struct {
	name string
	v    func(t *testing.T) sdk.Value
}

func equivalenceCases() []valueCase {
	secret := sdk.SecretFromValue("token", "hunter2")
	golang := func() *sdk.Container { return sdk.From("golang:1.26") }
	debian := func() *sdk.Container { return sdk.From("debian:bookworm") }
	built := func() *sdk.Container {
		return golang().WithNewFile("/out/app", "bin", sdk.Permissions(0o755)).WithExec([]string{"touch", "/out/x"})
	}
	return []valueCase{
		{"from", func(*testing.T) sdk.Value { return debian() }},
		{"service binding", func(*testing.T) sdk.Value {
			db := debian().WithEnv("MODE", "test").WithEntrypoint("redis-server").AsService(sdk.ServicePorts(6379), sdk.HealthCheck("redis-cli", "ping"))
			cache := debian().WithDefaultArgs("memcached").AsService(sdk.ServicePorts(11211))
			return debian().WithServiceBinding("db", db).WithServiceBinding("cache", cache).
				WithExec([]string{"redis-cli", "-h", "db", "ping"}, sdk.ExitCodes(0, 1)).
				WithExec([]string{"true"}).
				WithServiceBinding("db", db).WithExec([]string{"redis-cli", "-h", "db", "info"})
		}},
		{"from digest", func(*testing.T) sdk.Value {
			return sdk.From("debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").WithExec([]string{"true"})
		}},
		{"from tag and digest", func(*testing.T) sdk.Value {
			return sdk.From("registry.example.com:5000/team/app:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		}},
		{"from platform", func(*testing.T) sdk.Value {
			return sdk.From("debian:bookworm", sdk.ForPlatform("linux/arm64/v8")).WithExec([]string{"uname", "-m"})
		}},
		{"from arm v7", func(*testing.T) sdk.Value {
			return sdk.From("debian:bookworm", sdk.ForPlatform("linux/arm")).WithExec([]string{"uname", "-m"})
		}},
		{"from build platform", func(*testing.T) sdk.Value {
			return sdk.From("golang:1.26", sdk.ForPlatform(sdk.BuildPlatform)).WithExec([]string{"go", "version"}, sdk.TargetPlatformEnv())
		}},
		{"scratch", func(*testing.T) sdk.Value { return sdk.Scratch() }},
		{"scratch new file", func(*testing.T) sdk.Value { return sdk.Scratch().WithNewFile("/etc/motd", "hi") }},
		{"scratch exec", func(*testing.T) sdk.Value { return sdk.Scratch().WithExec([]string{"/bin/true"}) }},
		{"scratch for a platform", func(*testing.T) sdk.Value {
			return sdk.Scratch(sdk.ForPlatform("linux/arm64")).WithNewFile("/f", "x").WithExec([]string{"/f"})
		}},
		{"with fragment", func(*testing.T) sdk.Value {
			return debian().With(func(c *sdk.Container) *sdk.Container { return c.WithEnv("F", "1").WithExec([]string{"true"}) })
		}},
		{"exec", func(*testing.T) sdk.Value { return debian().WithExec([]string{"sh", "-c", "echo hi"}) }},
		{"exec inherits base config", func(*testing.T) sdk.Value { return golang().WithExec([]string{"go", "env"}) }},
		{"exec relative base workdir, duplicate env", func(*testing.T) sdk.Value {
			return sdk.From("tomcat:10").WithEnv("LANG", "fr_FR").WithExec([]string{"catalina.sh", "configtest"})
		}},
		{"exec env workdir user", func(*testing.T) sdk.Value {
			return debian().WithEnv("B", "2").WithEnv("A", "1").WithEnv("B", "3").WithoutEnv("A").
				WithWorkdir("/src").WithUser("1000:1000").WithExec([]string{"env"})
		}},
		{"exec options", func(*testing.T) sdk.Value {
			return debian().WithEnv("X", "container").WithExec([]string{"env"},
				sdk.Env("X", "step"), sdk.Env("Y", "only"), sdk.Workdir("/tmp"), sdk.AsUser("nobody"), sdk.ExitCodes(0, 1, 42))
		}},
		{"exec no network", func(*testing.T) sdk.Value {
			return debian().WithExec([]string{"true"}, sdk.NoNetwork())
		}},
		{"exec insecure", func(*testing.T) sdk.Value {
			return debian().WithExec([]string{"true"}, sdk.Insecure())
		}},
		{"exec target platform env", func(*testing.T) sdk.Value {
			return debian().WithEnv("TARGETOS", "mine").WithExec([]string{"env"}, sdk.TargetPlatformEnv())
		}},
		{"exec chain", func(*testing.T) sdk.Value {
			c := debian()
			for _, a := range []string{"a", "b", "c", "d"} {
				c = c.WithEnv("STEP", a).WithExec([]string{"echo", a})
			}
			return c
		}},
		{"cache mounts", func(*testing.T) sdk.Value {
			return golang().
				WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod")).
				WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build"), sdk.Locked).
				WithMountedCache("/a", sdk.CacheVolume("a"), sdk.Private).
				WithExec([]string{"go", "build", "./..."})
		}},
		{"cache mount owners", func(*testing.T) sdk.Value {
			return debian().
				WithMountedCache("/home/app/.m2", sdk.CacheVolume("m2"), sdk.Owner(1000, 1000)).
				WithMountedCache("/home/app/.npm", sdk.CacheVolume("npm"), sdk.OwnerName("app", "")).
				WithMountedCache("/home/app/.cargo", sdk.CacheVolume("cargo"), sdk.OwnerName("app", "staff"), sdk.Shared).
				WithMountedCache("/home/app/.same", sdk.CacheVolume("m2"), sdk.Owner(1000, 1000)).
				WithExec([]string{"true"}).WithExec([]string{"false"})
		}},
		{"temp mount", func(*testing.T) sdk.Value {
			return debian().WithMountedTemp("/tmp").WithMountedTemp("/run/x").WithExec([]string{"df"})
		}},
		{"secret mounts", func(*testing.T) sdk.Value {
			return debian().
				WithMountedSecret("/run/secrets/token", secret).
				WithMountedSecret("/home/app/.netrc", sdk.SecretFromEnv("NETRC"), sdk.Owner(1000, 1001), sdk.Permissions(0o440)).
				WithExec([]string{"cat", "/run/secrets/token"})
		}},
		{"secret env", func(*testing.T) sdk.Value {
			return debian().
				WithSecretEnv("TOKEN", secret).
				WithSecretEnv("OTHER", sdk.SecretFromFile("other", "/etc/hostname")).
				WithMountedSecret("/run/secrets/token", secret).
				WithExec([]string{"sh", "-c", "test -n \"$TOKEN\""})
		}},
		{"ssh agent", func(*testing.T) sdk.Value {
			return debian().WithSSHAgent("/run/ssh.sock").WithExec([]string{"ssh-add", "-l"})
		}},
		{"ssh agent with env set", func(*testing.T) sdk.Value {
			return debian().WithEnv("SSH_AUTH_SOCK", "/mine").WithSSHAgent("/run/ssh.sock").WithExec([]string{"ssh-add", "-l"})
		}},
		{"mounted directory and file", func(*testing.T) sdk.Value {
			b := built()
			return debian().
				WithMountedDirectory("/in", b.Directory("/out")).
				WithMountedFile("/bin/app", b.File("/out/app")).
				WithMountedDirectory("/root-of", b.Rootfs()).
				WithMountedDirectory("/empty", sdk.NewDirectory()).
				WithExec([]string{"ls", "/in"})
		}},
		{"mounted base itself", func(*testing.T) sdk.Value {
			c := debian().WithExec([]string{"true"})
			return c.WithMountedDirectory("/self", c.Rootfs()).WithExec([]string{"ls", "/self"})
		}},
		{"without mount", func(*testing.T) sdk.Value {
			return debian().WithMountedTemp("/tmp").WithMountedCache("/c", sdk.CacheVolume("c")).
				WithExec([]string{"a"}).WithoutMount("/tmp").WithExec([]string{"b"})
		}},
		{"proxy", func(*testing.T) sdk.Value {
			return debian().WithProxy(sdk.Proxy{HTTP: "http://proxy:3128", HTTPS: "http://proxy:3129", FTP: "ftp://p", NoProxy: "localhost", All: "socks5://p"}).
				WithExec([]string{"curl", "https://example.com"})
		}},
		{"proxy with CA bundle", func(t *testing.T) sdk.Value {
			ca := filepath.Join(t.TempDir(), "ca.pem")
			require.NoError(t, os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600))
			return debian().WithEnv("SSL_CERT_FILE", "/mine").WithProxy(sdk.Proxy{HTTPS: "http://proxy:3128", CABundle: ca}).
				WithMountedSecret("/run/secrets/token", secret).
				WithExec([]string{"apt-get", "install", "-y", "ca-certificates"})
		}},
		{"CA bundle only", func(t *testing.T) sdk.Value {
			ca := filepath.Join(t.TempDir(), "ca.pem")
			require.NoError(t, os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600))
			return debian().WithProxy(sdk.Proxy{CABundle: ca}).WithExec([]string{"true"})
		}},
		{"new files", func(*testing.T) sdk.Value {
			return debian().
				WithNewFile("/etc/app.conf", "a=b\n").
				WithNewFile("/opt/app/run.sh", "#!/bin/sh\n", sdk.Permissions(0o755), sdk.Owner(1000, 1000)).
				WithNewFile("/opt/app/by-name", "x", sdk.OwnerName("app", "app")).
				WithNewFile("/opt/app/user-only", "x", sdk.OwnerName("app", "")).
				WithNewFile("/top", "").
				WithWorkdir("/srv").WithNewFile("/srv/file.txt", "x")
		}},
		{"new directories", func(*testing.T) sdk.Value {
			return debian().
				WithNewDirectory("/var/lib/app").
				WithNewDirectory("/var/lib/app/data", sdk.Permissions(0o700), sdk.Owner(999, 999)).
				WithNewDirectory("/srv/x", sdk.OwnerName("www-data", "www-data"))
		}},
		{"without path", func(*testing.T) sdk.Value {
			return debian().WithoutPath("/var/cache/apt").WithoutPath("/tmp/x/")
		}},
		{"copies", func(*testing.T) sdk.Value {
			b := built()
			return debian().
				WithFile("/usr/local/bin/app", b.File("/out/app")).
				WithFile("/usr/local/bin/app2", b.File("/out/app"), sdk.Permissions(0o755), sdk.Owner(0, 0)).
				WithDirectory("/srv", b.Directory("/out"), sdk.Include("*.txt"), sdk.Exclude("tmp/")).
				WithDirectory("/srv/", b.Directory("/out/"), sdk.OwnerName("app", "")).
				WithDirectory("/srv/.", b.Directory("/out"), sdk.OwnerName("app", "staff")).
				WithDirectory("/", b.Rootfs()).
				WithFile("/etc/self", debian().File("/etc/hostname"))
		}},
		{"copy from itself", func(*testing.T) sdk.Value {
			c := debian().WithExec([]string{"true"})
			return c.WithDirectory("/backup", c.Directory("/etc"))
		}},
		{"directory values", func(*testing.T) sdk.Value {
			d := sdk.NewDirectory().WithNewFile("a.txt", "a").WithNewFile("sub/b.txt", "b", sdk.Permissions(0o600))
			d2 := sdk.NewDirectory().WithDirectory("/x", d).WithFile("f", d.File("a.txt")).WithoutPath("x/sub")
			return d2.Directory("x")
		}},
		{"directory of container", func(*testing.T) sdk.Value { return built().Directory("/out") }},
		{"rootfs", func(*testing.T) sdk.Value { return built().Rootfs() }},
		{"file of container", func(*testing.T) sdk.Value { return built().File("/out/app") }},
		{"empty directory", func(*testing.T) sdk.Value { return sdk.NewDirectory() }},
		{"empty subdirectory", func(*testing.T) sdk.Value { return sdk.NewDirectory().Directory("a") }},
		{"host", func(t *testing.T) sdk.Value {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("node_modules\n*.log\n!keep.log\n"), 0o600))
			return debian().WithDirectory("/src", sdk.Host(dir)).WithExec([]string{"ls", "/src"})
		}},
		{"host patterns", func(t *testing.T) sdk.Value {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("secret<&>.txt\n"), 0o600))
			return debian().
				WithDirectory("/a", sdk.Host(dir, sdk.Include("**/*.go", "go.mod"), sdk.Exclude("vendor/", "a&b"))).
				WithDirectory("/b", sdk.Host(dir, sdk.IgnoreDockerignore())).
				WithDirectory("/c", sdk.Host(dir, sdk.Include("x"), sdk.IgnoreDockerignore())).
				WithDirectory("/d", sdk.Host(dir)).WithDirectory("/e", sdk.Host(dir))
		}},
		{"host mounted", func(t *testing.T) sdk.Value {
			return debian().WithMountedDirectory("/src", sdk.Host(t.TempDir(), sdk.IgnoreDockerignore())).WithExec([]string{"ls"})
		}},
		{"git", func(*testing.T) sdk.Value {
			return debian().
				WithDirectory("/src", sdk.Git("https://github.com/moby/buildkit.git", "v0.34.2")).
				WithDirectory("/kept", sdk.Git("https://github.com/moby/buildkit", "master", sdk.KeepGitDir())).
				WithDirectory("/bare", sdk.Git("github.com/moby/buildkit", "main"))
		}},
		{"http", func(*testing.T) sdk.Value {
			sum := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			return debian().
				WithFile("/usr/local/bin/tool", sdk.HTTP("https://example.com/tool", sum, sdk.Permissions(0o755))).
				WithFile("/etc/data.json", sdk.HTTP("https://example.com/dl/data.json?x=1", sum))
		}},
		{"http unpinned", func(*testing.T) sdk.Value {
			return debian().
				WithFile("/usr/local/bin/tool", sdk.HTTP("https://example.com/unpinned", "", sdk.Permissions(0o755))).
				WithFile("/etc/live", sdk.HTTP("https://example.com/live", ""))
		}},
		{"http file alone", func(*testing.T) sdk.Value {
			return sdk.HTTP("https://example.com/tool.tar.gz", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		}},
		{"image config", func(*testing.T) sdk.Value {
			return golang().WithEnv("A", "1").WithWorkdir("/app").WithUser("app").
				WithEntrypoint("/app/run").WithDefaultArgs("--serve").WithLabel("k", "v").
				WithAnnotation("org.opencontainers.image.source", "x").WithExposedPort(8080).WithExposedPort(53, sdk.UDP).
				WithExec([]string{"true"})
		}},
		{"multi-stage", func(*testing.T) sdk.Value {
			src := sdk.NewDirectory().WithNewFile("go.mod", "module x\n").WithNewFile("main.go", "package main\n")
			build := golang().WithWorkdir("/src").WithDirectory("/src", src).
				WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod")).
				WithProxy(sdk.Proxy{HTTP: "http://proxy.internal:3128", NoProxy: "localhost"}).
				WithSecretEnv("NETRC_TOKEN", secret).
				WithEnv("CGO_ENABLED", "0").
				WithExec([]string{"go", "test", "./..."}).
				WithExec([]string{"go", "build", "-o", "/out/app", "."})
			return sdk.From("debian:bookworm-slim").
				WithFile("/usr/local/bin/app", build.File("/out/app"), sdk.Permissions(0o755)).
				WithUser("10001").WithEntrypoint("/usr/local/bin/app")
		}},
		{"same step twice from two call sites", func(*testing.T) sdk.Value {
			a := debian().WithExec([]string{"make"})
			b := debian().WithExec([]string{"make"})
			return a.WithDirectory("/b", b.Rootfs())
		}},
		{"bad step", func(*testing.T) sdk.Value { return debian().WithExec(nil) }},
		{"conflicting secrets", func(*testing.T) sdk.Value {
			return debian().WithSecretEnv("A", sdk.SecretFromValue("s", "1")).WithSecretEnv("B", sdk.SecretFromValue("s", "2")).WithExec([]string{"true"})
		}},
	}
}

// lockedSums is a lock's checksums for the "locked" options.
func lockedSums(url string) (string, bool) {
	if url == "https://example.com/unpinned" || url == "https://example.com/tool" {
		return "sha256:abababababababababababababababababababababababababababababababab", true
	}
	return "", false
}

// TestEmitterEqualsStateCompiler compiles every case with the emitter and
// with the State-based oracle, with and without a resolver, for two
// platforms and with the final step re-run.
func TestEmitterEqualsStateCompiler(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(1700000000, 0).UTC()
	opts := map[string]llb.Options{
		"default":     {},
		"resolver":    {Resolver: fakeResolver{}, Epoch: &epoch},
		"arm64":       {Resolver: fakeResolver{}, Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64"}, BuildPlatform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}},
		"os version":  {Platform: ocispecs.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763", OSFeatures: []string{"win32k"}}},
		"rerun final": {Resolver: fakeResolver{}, RerunFinal: true, RunID: "run-1"},
		"locked":      {Checksums: lockedSums},
	}
	failing := map[string]bool{"bad step": true, "conflicting secrets": true}
	for _, tc := range equivalenceCases() {
		for oname, opt := range opts {
			t.Run(tc.name+"/"+oname, func(t *testing.T) {
				t.Parallel()
				ok := requireSameProgram(t, tc.v(t), opt)
				require.Equal(t, !failing[tc.name], ok, "compiles")
			})
		}
	}
}
