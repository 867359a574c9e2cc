// Command services tests a Go service against a real Redis server that
// runs as a service bound to the test step. The graph is in
// [github.com/ladingbuild/lading/examples/services/graph].
//
//	go run ./examples/services         # the tests, the integration test included
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/services/graph"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

func main() { newPipeline().Main() }

// newPipeline declares the example's target.
func newPipeline() *pipeline.Pipeline {
	p := pipeline.New("services")
	src := p.Flags().String("src", defaultSource(), "directory of the Go service")
	p.Target("test", "run the service's tests against a Redis service", func(ctx context.Context, e *engine.Engine) error {
		out, err := e.Stdout(ctx, graph.Test(sdk.Host(*src)))
		fmt.Print(out)
		return err
	})
	p.Default("test")
	return p
}

// defaultSource finds app/ beside this file, so the example runs from the
// repository root or from its own directory.
func defaultSource() string {
	for _, dir := range []string{"examples/services/app", "app"} {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "app")
}
