package llb_test

import (
	"testing"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/benchgraph"
	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// opDigests lists the digests of a definition's ops: what BuildKit solves
// and caches (metadata such as progress names is not part of them).
func opDigests(t *testing.T, def *bkllb.Definition) []digest.Digest {
	t.Helper()
	var out []digest.Digest
	for _, dt := range def.Def {
		var op pb.Op
		require.NoError(t, op.Unmarshal(dt))
		out = append(out, digest.FromBytes(dt))
	}
	return out
}

// A multi-stage graph written with sdk and the same graph written by hand
// in raw llb compile to identical ops.
func TestSDKEqualsHandWrittenLLB(t *testing.T) {
	t.Parallel()
	build := sdk.From("golang:1.26").
		WithWorkdir("/src").
		WithNewFile("/src/main.go", "package main\nfunc main() {}\n").
		WithEnv("CGO_ENABLED", "0").
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
		WithExec([]string{"go", "build", "-o", "/out/app", "."})
	app := sdk.From("debian:bookworm-slim").
		WithFile("/usr/local/bin/app", build.File("/out/app")).
		WithoutPath("/var/cache/apt").
		WithUser("10001").
		WithExec([]string{"/usr/local/bin/app"})
	got, err := llb.CompileValue(t.Context(), app, llb.Options{})
	require.NoError(t, err)

	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	g := bkllb.Image("docker.io/library/golang:1.26", bkllb.Platform(amd64))
	g = g.File(bkllb.Mkdir("/src", 0o755, bkllb.WithParents(true)).Mkfile("/src/main.go", 0o644, []byte("package main\nfunc main() {}\n")))
	g = g.AddEnv("CGO_ENABLED", "0").Dir("/src").Platform(amd64).Run(
		bkllb.Args([]string{"go", "build", "-o", "/out/app", "."}),
		bkllb.AddMount("/root/.cache/go-build", bkllb.Scratch(), bkllb.AsPersistentCacheDir("go-build", bkllb.CacheMountShared)),
	).Root()
	a := bkllb.Image("docker.io/library/debian:bookworm-slim", bkllb.Platform(amd64))
	a = a.File(bkllb.Copy(g, "/out/app", "/usr/local/bin/app", &bkllb.CopyInfo{CreateDestPath: true}))
	a = a.File(bkllb.Rm("/var/cache/apt", bkllb.WithAllowNotFound(true)))
	a = a.Dir("/").User("10001").Platform(amd64).Run(bkllb.Args([]string{"/usr/local/bin/app"})).Root()
	want, err := a.Marshal(t.Context(), bkllb.Platform(amd64))
	require.NoError(t, err)

	assert.ElementsMatch(t, opDigests(t, want), opDigests(t, got.Def), "same ops as the hand-written graph")
}

// The benchmark's two graphs (benchgraph.SDK and benchgraph.Raw) compile to
// identical ops, so BenchmarkCompile compares like with like.
func TestBenchGraphEqualsRawLLB(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 10, 200} {
		got, err := llb.CompileValue(t.Context(), benchgraph.SDK(n), llb.Options{})
		require.NoError(t, err)
		want, err := benchgraph.Raw(n).Marshal(t.Context(), bkllb.LinuxAmd64)
		require.NoError(t, err)
		require.Equal(t, opDigests(t, want), opDigests(t, got.Def), "steps=%d: the same ops in the same order", n)
	}
}
