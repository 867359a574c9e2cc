// Command multistage builds a Go HTTP service the way a careful team
// would: tests and a static build in a golang image with cached modules,
// the binary alone in a slim runtime image running as a non-root user.
// The graph is in [github.com/ladingbuild/lading/examples/multistage/graph];
// this program runs it as pipeline targets.
//
//	go run ./examples/multistage                       # test and build the image (one solve)
//	go run ./examples/multistage test                  # the tests alone
//	go run ./examples/multistage smoke                 # run it and request a page
//	go run ./examples/multistage -publish registry.example.com/hello:1.0 publish
//	go run ./examples/multistage -oci hello.tar export
//	go run ./examples/multistage -bundle images.tar export   # add it to an offline bundle
package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

func main() { newPipeline().Main() }

// newPipeline declares the example's targets and flags.
//
// The image's graph contains the test step (the binary is built on top of
// it), so the build target runs the tests in the same solve as the image
// and does not depend on the test target, which would cost a second solve
// of the same steps.
func newPipeline() *pipeline.Pipeline {
	p := pipeline.New("multistage")
	src := p.Flags().String("src", defaultSource("go.mod"), "directory of the Go service")
	version := p.Flags().String("version", "dev", "version of the image (label and tarball tag)")

	build := func() *sdk.Container { return graph.Build(sdk.Host(*src), sdk.ProxyFromEnv()) }
	image := func() *sdk.Container { return graph.Image(build(), *version) }

	p.Target("test", "run the service's tests in the build stage", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, build())
		return err
	})
	p.ImageTargets(pipeline.Image{
		Name:  "hello",
		Tag:   version,
		Build: image,
		Smoke: func() *sdk.Container { return graph.Smoke(image()) },
	})
	p.LintTarget(pipeline.Lint{}) // go run . lint: the images' graphs, offline
	p.Default("build")
	return p
}

// defaultSource finds app/ beside this file, so the example runs from the
// repository root or from its own directory.
func defaultSource(marker string) string {
	for _, dir := range []string{"examples/multistage/app", "app"} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return dir
		}
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "app")
}
