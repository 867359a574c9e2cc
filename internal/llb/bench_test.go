package llb_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	bkllb "github.com/moby/buildkit/client/llb"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// The same graph two ways: an image, then n steps that each set an env
// var and run a command, with a cache mount. Both sides include building
// the graph and marshalling it.

func sdkGraph(n int) *sdk.Container {
	c := sdk.From("debian:bookworm").WithWorkdir("/src").
		WithMountedCache("/cache", sdk.CacheVolume("c"))
	for i := range n {
		c = c.WithEnv("STEP", strconv.Itoa(i)).WithExec([]string{"sh", "-c", "echo " + strconv.Itoa(i)})
	}
	return c
}

func rawGraph(n int) bkllb.State {
	st := bkllb.Image("docker.io/library/debian:bookworm").Dir("/src")
	for i := range n {
		st = st.AddEnv("STEP", strconv.Itoa(i))
		st = st.Run(bkllb.Args([]string{"sh", "-c", "echo " + strconv.Itoa(i)}),
			bkllb.AddMount("/cache", bkllb.Scratch(), bkllb.AsPersistentCacheDir("c", bkllb.CacheMountShared))).Root()
	}
	return st
}

func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 200, 2000} {
		b.Run(fmt.Sprintf("steps=%d/sdk", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := llb.CompileValue(ctx, sdkGraph(n), llb.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("steps=%d/llb", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rawGraph(n).Marshal(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchGraphsAgree(t *testing.T) {
	p, err := llb.CompileValue(t.Context(), sdkGraph(3), llb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rawGraph(3).Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Def.Def) != len(raw.Def) {
		t.Fatalf("the benchmark graphs differ in size: sdk %d ops, llb %d ops", len(p.Def.Def), len(raw.Def))
	}
}
