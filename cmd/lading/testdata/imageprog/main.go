// Command imageprog is a pipeline program with one image, From the
// reference in IMAGEPROG_REF, for the lint and lock commands' tests.
package main

import (
	"os"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

func main() {
	p := pipeline.New("imageprog")
	if r := os.Getenv("IMAGEPROG_INSECURE"); r != "" {
		p.EngineOptions(engine.WithInsecureRegistry(r), engine.Silent())
	}
	p.ImageTargets(pipeline.Image{Name: "app", Build: func() *sdk.Container {
		return sdk.From(os.Getenv("IMAGEPROG_REF")).WithUser("10001")
	}})
	p.LintTarget(pipeline.Lint{})
	p.Main()
}
