// Command imageprog is a pipeline program with one image, From IMAGEPROG_REF
// (and IMAGEPROG_HTTP downloaded unpinned), for lint's and lock's tests.
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
		c := sdk.From(os.Getenv("IMAGEPROG_REF")).WithUser("10001")
		if u := os.Getenv("IMAGEPROG_HTTP"); u != "" {
			c = c.WithFile("/tool", sdk.HTTP(u, ""))
		}
		return c
	}})
	p.LintTarget(pipeline.Lint{})
	p.Main()
}
