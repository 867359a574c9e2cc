// Command ci is lading's own pipeline, written with lading:
//
//	go run ./ci            # vet and unit-test lading inside a golang container
//	go run ./ci -h         # targets and flags
//
// The repository is sent as a host directory (without .git and build
// output); Go's module and build caches are cache volumes, so a second run
// only re-does what changed.
package main

import (
	"context"
	"fmt"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

func main() {
	p := pipeline.New("ci")
	repo := p.Flags().String("repo", ".", "repository root")

	proxy := sdk.ProxyFromEnv()
	if proxy.CABundle == "" {
		// go mod download fetches over HTTPS: trust what this machine trusts.
		proxy.CABundle = sdk.SystemCABundle()
	}
	golang := func() *sdk.Container {
		src := sdk.Host(*repo, sdk.Exclude(".git", "bin", "**/*.test", "**/testdata/fuzz"))
		return sdk.From("golang:1.26").
			WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod")).
			WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
			WithProxy(proxy).
			WithEnv("CGO_ENABLED", "0").
			WithEnv("GOFLAGS", "-buildvcs=false").
			WithWorkdir("/src").
			WithFile("/src/go.mod", src.File("go.mod")).
			WithFile("/src/go.sum", src.File("go.sum")).
			WithExec([]string{"go", "mod", "download"}).
			WithDirectory("/src", src)
	}
	run := func(args ...string) pipeline.RunFunc {
		return func(ctx context.Context, e *engine.Engine) error {
			res, err := e.Build(ctx, golang().WithExec(args))
			if err == nil {
				fmt.Printf("%v: %d steps ran, %d cached\n", args, res.Summary.Ran, res.Summary.Cached)
			}
			return err
		}
	}
	p.Target("vet", "go vet ./...", run("go", "vet", "./..."))
	p.Target("unit", "unit tests of the SDK, compiler and examples' graphs (no daemon)",
		run("go", "test", "-count=1", "-skip", "TestEndToEnd", "./sdk/...", "./internal/llb/...", "./pipeline/...", "./examples/..."))
	p.Target("all", "vet and unit", func(context.Context, *engine.Engine) error { return nil }, "vet", "unit")
	p.Default("all")
	p.Main()
}
