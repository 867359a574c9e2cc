package llb_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// randomGraph drives the sdk builders with a step sequence read from ops:
// each byte picks a step, the next bytes its arguments. Most arguments
// come from small pools of valid values so that most graphs compile; word
// and path are free (fuzzed) text.
func randomGraph(t *testing.T, ops []byte, path, word string) []sdk.Value {
	t.Helper()
	paths := []string{"/src", "/out", "/out/app", "/etc/x", "/", "/cache", "/tmp/a/b", "/srv/", "/srv/.", path}
	words := []string{"a", "go", "B", "SSH_AUTH_SOCK", "TARGETOS", "PATH", "", word}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, ".dockerignore"), []byte("*.log\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	next := func(i *int) byte {
		*i++
		if *i < len(ops) {
			return ops[*i]
		}
		return byte(*i)
	}
	p := func(i *int) string { return paths[int(next(i))%len(paths)] }
	w := func(i *int) string { return words[int(next(i))%len(words)] }
	owner := func(i *int) sdk.Ownership {
		switch next(i) % 3 {
		case 0:
			return sdk.Owner(int(next(i)), int(next(i)))
		case 1:
			return sdk.OwnerName("app", "")
		}
		return sdk.OwnerName("app", "staff")
	}
	platforms := []sdk.FromOption{sdk.ForPlatform(""), sdk.ForPlatform("linux/arm64"), sdk.ForPlatform(sdk.BuildPlatform), sdk.ForPlatform("linux/arm/v6")}
	images := []string{"debian:bookworm", "golang:1.26", "tomcat:10"}

	c := sdk.From("debian:bookworm")
	other := sdk.From("golang:1.26").WithExec([]string{"true"})
	d := sdk.NewDirectory()
	for i := 0; i < len(ops); i++ {
		switch ops[i] % 40 {
		case 0:
			c = c.WithExec([]string{w(&i), p(&i)})
		case 1:
			c = c.WithEnv(w(&i), p(&i))
		case 2:
			c = c.WithWorkdir(p(&i))
		case 3:
			c = c.WithUser(w(&i))
		case 4:
			c = c.WithNewFile(p(&i), w(&i), sdk.Permissions(os.FileMode(next(&i))))
		case 5:
			c = c.WithDirectory(p(&i), d)
		case 6:
			c = c.WithFile(p(&i), other.File(p(&i)), sdk.Permissions(0o755))
		case 7:
			c = c.WithoutPath(p(&i))
		case 8:
			c = c.WithMountedCache(p(&i), sdk.CacheVolume(w(&i)), sdk.Sharing(next(&i)%3))
		case 9:
			c = c.WithMountedTemp(p(&i))
		case 10:
			c = c.WithMountedSecret(p(&i), sdk.SecretFromValue("s"+w(&i), "v"))
		case 11:
			c = c.WithSecretEnv(w(&i), sdk.SecretFromValue("e", "v"))
		case 12:
			c = c.WithMountedDirectory(p(&i), other.Directory(p(&i)))
		case 13:
			c = c.WithExposedPort(int(next(&i)) + 1)
		case 14:
			c = c.WithLabel(w(&i), p(&i))
		case 15:
			c = c.WithEntrypoint(w(&i), p(&i))
		case 16:
			c = c.WithoutMount(p(&i))
		case 17:
			d = d.WithNewFile(p(&i), w(&i))
		case 18:
			d = d.Directory(p(&i))
		case 19:
			c = sdk.From(images[int(next(&i))%len(images)], platforms[int(next(&i))%len(platforms)])
		case 20:
			c = c.WithExec([]string{w(&i)}, sdk.Workdir(p(&i)), sdk.ExitCodes(int(next(&i))), sdk.Env(w(&i), "v"), sdk.AsUser(w(&i)))
		case 21:
			c = c.WithProxy(sdk.Proxy{HTTP: w(&i), NoProxy: p(&i)})
		case 22:
			c = c.WithProxy(sdk.Proxy{HTTPS: "http://p:1", CABundle: ca})
		case 23:
			c = c.WithExec([]string{"x"}, sdk.NoNetwork(), sdk.TargetPlatformEnv())
		case 24:
			c = c.WithExec([]string{"x"}, sdk.Insecure())
		case 25:
			c = c.WithMountedCache(p(&i), sdk.CacheVolume("o"+w(&i)), owner(&i))
		case 26:
			c = c.WithMountedSecret(p(&i), sdk.SecretFromEnv("TOKEN"), sdk.Owner(int(next(&i)), 2), sdk.Permissions(0o440))
		case 27:
			c = c.WithSSHAgent(p(&i))
		case 28:
			c = c.WithMountedFile(p(&i), other.File(p(&i)))
		case 29:
			c = c.WithNewFile(p(&i), w(&i), owner(&i))
		case 30:
			c = c.WithNewDirectory(p(&i), owner(&i), sdk.Permissions(0o700))
		case 31:
			c = c.WithDirectory(p(&i), other.Directory(p(&i)), sdk.Include("*.go"), sdk.Exclude(w(&i)+"x"), owner(&i))
		case 32:
			c = c.WithDirectory(p(&i), sdk.Host(host, sdk.Exclude("vendor/")))
		case 33:
			c = c.WithMountedDirectory(p(&i), sdk.Host(host, sdk.Include("**/*.go"), sdk.IgnoreDockerignore()))
		case 34:
			c = c.WithDirectory(p(&i), sdk.Git("https://github.com/moby/buildkit.git", "v0.34."+strconv.Itoa(int(next(&i)%3))))
		case 35:
			c = c.WithFile(p(&i), sdk.HTTP("https://example.com/f"+w(&i), "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", sdk.Permissions(0o700)))
		case 36:
			other = other.WithExec([]string{w(&i)}).WithDirectory(p(&i), c.Directory(p(&i)))
		case 37:
			c = c.WithoutEnv(w(&i))
		case 38:
			d = d.WithDirectory(p(&i), other.Directory(p(&i))).WithFile(p(&i), c.File(p(&i)))
		case 39:
			c = c.WithMountedDirectory(p(&i), c.Rootfs())
		}
	}
	return []sdk.Value{c, d, c.File(path), c.Directory(path), other.Rootfs()}
}

// checkRandomGraph compiles every value of a random graph both ways, with
// and without a resolver.
func checkRandomGraph(t *testing.T, ops []byte, path, word string) {
	t.Helper()
	if len(ops) > 96 {
		ops = ops[:96]
	}
	for _, v := range randomGraph(t, ops, path, word) {
		requireSameProgram(t, v, llb.Options{})
		requireSameProgram(t, v, llb.Options{Resolver: fakeResolver{}, RerunFinal: true, RunID: "r",
			Platform: ocispecs.Platform{OS: "linux", Architecture: "arm64"}})
	}
}

// FuzzEmitterEqualsStateCompiler: whatever the steps, the emitter and the
// State-based oracle give the same program, or the same error.
//
// Long run: go test ./internal/llb -run '^$' -fuzz FuzzEmitterEqualsStateCompiler -fuzztime 2m
func FuzzEmitterEqualsStateCompiler(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5}, "/src", "go")
	f.Add([]byte{8, 9, 10, 11, 12, 0, 25, 26, 27, 28, 0}, "/work", "x")
	f.Add([]byte{22, 21, 23, 24, 20, 0, 19, 3, 1, 0}, "relative", "a=b")
	f.Add([]byte{29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 0}, "/", "\x00")
	f.Fuzz(checkRandomGraph)
}

// TestRandomGraphsEqual runs the fuzz check on a few hundred graphs from a
// fixed seed, so every `go test` covers long random step sequences.
func TestRandomGraphsEqual(t *testing.T) {
	t.Parallel()
	n := 300
	if testing.Short() {
		n = 40
	}
	rng := rand.New(rand.NewPCG(10, 2026))
	for i := range n {
		ops := make([]byte, 8+rng.IntN(88))
		for j := range ops {
			ops[j] = byte(rng.UintN(256))
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			checkRandomGraph(t, ops, "/p", "w")
		})
	}
}
