package llb_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ladingbuild/lading/internal/benchgraph"
	"github.com/ladingbuild/lading/internal/llb"
)

// The graph is built two ways by package benchgraph: with the SDK and by
// hand in raw llb. Both sides include building the graph and marshalling it.

func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 200, 2000} {
		b.Run(fmt.Sprintf("steps=%d/sdk", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := llb.CompileValue(ctx, benchgraph.SDK(n), llb.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("steps=%d/llb", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := benchgraph.Raw(n).Marshal(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
