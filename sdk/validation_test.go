package sdk_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

func compile(t testing.TB, v sdk.Value) (*llb.Program, error) {
	t.Helper()
	return llb.CompileValue(t.Context(), v, llb.Options{})
}

// TestBadInput checks that each kind of bad argument becomes a
// ValidationError naming the operation, the argument and this file, with a
// fix, and that nothing panics.
func TestBadInput(t *testing.T) {
	base := sdk.From("debian:bookworm")
	dir := sdk.NewDirectory().WithNewFile("a.txt", "a")
	file := dir.File("a.txt")
	secret := sdk.SecretFromValue("token", "s3cr3t")
	var nilContainer *sdk.Container

	cases := []struct {
		name string
		v    func() sdk.Value
		op   string
		arg  string
	}{
		{"empty image ref", func() sdk.Value { return sdk.From("") }, "From", "ref"},
		{"invalid image ref", func() sdk.Value { return sdk.From("Not A Ref!") }, "From", "ref"},
		{"uppercase image ref", func() sdk.Value { return sdk.From("Debian:bookworm") }, "From", "ref"},
		{"malformed platform", func() sdk.Value { return sdk.From("debian", sdk.ForPlatform("linux/")) }, "From", "platform"},
		{"unknown platform", func() sdk.Value { return sdk.Scratch(sdk.ForPlatform("plan9 on a toaster")) }, "Scratch", "platform"},
		{"exec without args", func() sdk.Value { return base.WithExec(nil) }, "WithExec", "args"},
		{"exec with empty program", func() sdk.Value { return base.WithExec([]string{"", "x"}) }, "WithExec", "args"},
		{"exec relative workdir", func() sdk.Value { return base.WithExec([]string{"ls"}, sdk.Workdir("src")) }, "WithExec", "Workdir"},
		{"exec bad exit code", func() sdk.Value { return base.WithExec([]string{"ls"}, sdk.ExitCodes(300)) }, "WithExec", "ExitCodes"},
		{"exec env name with =", func() sdk.Value { return base.WithExec([]string{"ls"}, sdk.Env("A=B", "c")) }, "WithExec", "name"},
		{"exec args not UTF-8", func() sdk.Value { return base.WithExec([]string{"echo", "\xff"}) }, "WithExec", "args"},
		{"empty env name", func() sdk.Value { return base.WithEnv("", "x") }, "WithEnv", "name"},
		{"env name with =", func() sdk.Value { return base.WithEnv("A=B", "x") }, "WithEnv", "name"},
		{"empty workdir", func() sdk.Value { return base.WithWorkdir("") }, "WithWorkdir", "dir"},
		{"relative workdir", func() sdk.Value { return base.WithWorkdir("src") }, "WithWorkdir", "dir"},
		{"escaping workdir", func() sdk.Value { return base.WithWorkdir("/src/../../etc") }, "WithWorkdir", "dir"},
		{"empty user", func() sdk.Value { return base.WithUser("") }, "WithUser", "user"},
		{"nil directory", func() sdk.Value { return base.WithDirectory("/src", nil) }, "WithDirectory", "dir"},
		{"relative directory target", func() sdk.Value { return base.WithDirectory("src", dir) }, "WithDirectory", "path"},
		{"nil file", func() sdk.Value { return base.WithFile("/app", nil) }, "WithFile", "file"},
		{"file onto root", func() sdk.Value { return base.WithFile("/", file) }, "WithFile", "path"},
		{"file with include", func() sdk.Value { return base.WithFile("/a", file, sdk.Include("*")) }, "WithFile", "opts"},
		{"bad permissions", func() sdk.Value { return base.WithFile("/a", file, sdk.Permissions(0o170000)) }, "WithFile", "Permissions"},
		{"negative owner", func() sdk.Value { return base.WithDirectory("/a", dir, sdk.Owner(-1, 0)) }, "WithDirectory", "Owner"},
		{"bad exclude pattern", func() sdk.Value { return base.WithDirectory("/a", dir, sdk.Exclude("[")) }, "WithDirectory", "patterns"},
		{"new file at root", func() sdk.Value { return base.WithNewFile("/", "x") }, "WithNewFile", "path"},
		{"new file relative", func() sdk.Value { return base.WithNewFile("etc/x", "x") }, "WithNewFile", "path"},
		{"remove root", func() sdk.Value { return base.WithoutPath("/") }, "WithoutPath", "path"},
		{"remove escaping", func() sdk.Value { return base.WithoutPath("/a/../..") }, "WithoutPath", "path"},
		{"empty cache id", func() sdk.Value { return base.WithMountedCache("/cache", sdk.CacheVolume("")) }, "WithMountedCache", "cache"},
		{"cache over root", func() sdk.Value { return base.WithMountedCache("/", sdk.CacheVolume("c")) }, "WithMountedCache", "path"},
		{"unknown sharing", func() sdk.Value { return base.WithMountedCache("/c", sdk.CacheVolume("c"), sdk.Sharing(9)) }, "WithMountedCache", "sharing"},
		{"tmp over root", func() sdk.Value { return base.WithMountedTemp("/") }, "WithMountedTemp", "path"},
		{"conflicting mounts", func() sdk.Value {
			return base.WithMountedTemp("/work").WithMountedCache("/work", sdk.CacheVolume("c"))
		}, "WithMountedCache", "path"},
		{"nil secret mount", func() sdk.Value { return base.WithMountedSecret("/run/s", nil) }, "WithMountedSecret", "secret"},
		{"relative secret mount", func() sdk.Value { return base.WithMountedSecret("run/s", secret) }, "WithMountedSecret", "path"},
		{"nil secret env", func() sdk.Value { return base.WithSecretEnv("TOKEN", nil) }, "WithSecretEnv", "secret"},
		{"empty secret env name", func() sdk.Value { return base.WithSecretEnv("", secret) }, "WithSecretEnv", "name"},
		{"bad secret name", func() sdk.Value { return base.WithSecretEnv("T", sdk.SecretFromValue("a b", "x")) }, "SecretFromValue", "name"},
		{"secret file without path", func() sdk.Value { return base.WithSecretEnv("T", sdk.SecretFromFile("t", "")) }, "SecretFromFile", "path"},
		{"secret owner by name", func() sdk.Value { return base.WithMountedSecret("/s", secret, sdk.OwnerName("app", "app")) }, "WithMountedSecret", "Owner"},
		{"two secrets, one name", func() sdk.Value {
			return base.WithMountedSecret("/a", secret).WithSecretEnv("B", sdk.SecretFromValue("token", "other")).WithExec([]string{"true"})
		}, "secret", "name"},
		{"nil mounted directory", func() sdk.Value { return base.WithMountedDirectory("/src", nil) }, "WithMountedDirectory", "dir"},
		{"port zero", func() sdk.Value { return base.WithExposedPort(0) }, "WithExposedPort", "port"},
		{"port too big", func() sdk.Value { return base.WithExposedPort(70000) }, "WithExposedPort", "port"},
		{"bad protocol", func() sdk.Value { return base.WithExposedPort(80, "sctp") }, "WithExposedPort", "protocol"},
		{"empty label", func() sdk.Value { return base.WithLabel(" ", "x") }, "WithLabel", "name"},
		{"empty entrypoint", func() sdk.Value { return base.WithEntrypoint() }, "WithEntrypoint", "args"},
		{"missing CA bundle", func() sdk.Value { return base.WithProxy(sdk.Proxy{CABundle: "/nonexistent/ca.pem"}) }, "WithProxy", "CABundle"},
		{"http blank checksum", func() sdk.Value { return sdk.HTTP("https://example.com/tool.tgz", " ") }, "HTTP", "checksum"},
		{"http bad checksum", func() sdk.Value { return sdk.HTTP("https://example.com/tool.tgz", "md5:abc") }, "HTTP", "checksum"},
		{"http bad url", func() sdk.Value { return sdk.HTTP("ftp://example.com/x", "sha256:"+strings.Repeat("a", 64)) }, "HTTP", "url"},
		{"git without url", func() sdk.Value { return sdk.Git("", "main") }, "Git", "url"},
		{"git without ref", func() sdk.Value { return sdk.Git("https://example.com/r.git", "") }, "Git", "ref"},
		{"host without path", func() sdk.Value { return sdk.Host("") }, "Host", "path"},
		{"host bad pattern", func() sdk.Value { return sdk.Host(".", sdk.Exclude("")) }, "Host", "patterns"},
		{"directory escaping", func() sdk.Value { return dir.Directory("../etc") }, "Directory.Directory", "path"},
		{"directory file escaping", func() sdk.Value { return dir.File("a/../../x") }, "Directory.File", "path"},
		{"directory new file escaping", func() sdk.Value { return dir.WithNewFile("../x", "") }, "Directory.WithNewFile", "path"},
		{"container relative file", func() sdk.Value { return base.File("out/app") }, "File", "path"},
		{"container root as file", func() sdk.Value { return base.File("/") }, "File", "path"},
		{"nil container receiver", func() sdk.Value { return nilContainer.WithExec([]string{"ls"}) }, "WithExec", "receiver"},
		{"error sticks to later steps", func() sdk.Value { return base.WithWorkdir("x").WithExec([]string{"ls"}).WithEnv("A", "b") }, "WithWorkdir", "dir"},
		{"error travels through hand-off", func() sdk.Value {
			return base.WithFile("/app", sdk.From("").File("/app"))
		}, "From", "ref"},
	}
	require.GreaterOrEqual(t, len(cases), 30)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := compile(t, tc.v())
			require.Error(t, err)
			require.Nil(t, prog)
			var verr *sdk.ValidationError
			require.ErrorAs(t, err, &verr, "got %T", err)
			assert.Equal(t, tc.op, verr.Op)
			assert.Equal(t, tc.arg, verr.Arg)
			assert.Equal(t, "sdk/validation_test.go", verr.Location.File, "the error must point at the call site")
			assert.NotZero(t, verr.Location.Line)
			assert.NotEmpty(t, verr.Problem)
			assert.NotEmpty(t, verr.Fix, "say how to fix it")
			assert.Contains(t, err.Error(), "validation_test.go:")
			assert.NotContains(t, err.Error(), "s3cr3t", "never echo a secret")
		})
	}
}

func TestNilValuesCompileToErrors(t *testing.T) {
	var c *sdk.Container
	var d *sdk.Directory
	var f *sdk.File
	for _, v := range []sdk.Value{c, d, f} {
		_, err := compile(t, v)
		var verr *sdk.ValidationError
		require.ErrorAs(t, err, &verr)
	}
}
