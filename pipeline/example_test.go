package pipeline_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/pipeline"
)

func noop(context.Context, *engine.Engine) error { return nil }

// A pipeline's targets and flags; -h lists them without connecting to an
// engine.
func ExampleNew() {
	p := pipeline.New("myapp")
	p.Output(os.Stdout)
	p.Flags().String("tag", "", "publish to this image reference")
	p.Target("test", "run the unit tests", noop)
	p.Target("build", "build the image", noop, "test")
	p.Target("publish", "push the image to -tag", noop, "build")
	err := p.Run(context.Background(), []string{"-h"})
	fmt.Println(err)
	// Output:
	// usage: go run . [flags] [target ...]
	//
	// targets:
	//   test         run the unit tests [default]
	//   build        build the image (after test)
	//   publish      push the image to -tag (after build)
	//
	// flags:
	//   -i	open a shell in a step that fails (needs a terminal; see engine.Interactive)
	//   -tag string
	//     	publish to this image reference
	// flag: help requested
}

// Run checks the target names and the dependencies before it connects to
// an engine: a typo or a cycle fails at once.
func ExamplePipeline_Run() {
	p := pipeline.New("myapp")
	p.Output(os.Stdout)
	p.Target("lint", "lint", noop, "check")
	p.Target("check", "check", noop, "lint")
	p.Target("build", "build", noop)
	fmt.Println(p.Run(context.Background(), []string{"biuld"}))
	fmt.Println(p.Run(context.Background(), []string{"lint"}))
	// Output:
	// usage: unknown target "biuld" (targets: lint, check, build)
	// usage: targets depend on each other: lint -> check -> lint
}

// ImageTargets adds build, smoke, publish and export targets for one
// image, and their flags.
func ExamplePipeline_ImageTargets() {
	p := pipeline.New("hello")
	p.Output(os.Stdout)
	p.ImageTargets(pipeline.Image{Name: "hello"})
	_ = p.Run(context.Background(), []string{"-h"})
	// Output:
	// usage: go run . [flags] [target ...]
	//
	// targets:
	//   build        build the hello image [default]
	//   publish      push the image to -publish (after build)
	//   export       write the image to -oci or -docker tarballs, or add it to a -bundle (after build)
	//
	// flags:
	//   -bundle string
	//     	add the image to this offline bundle (a directory, or a .tar), for the export target
	//   -docker string
	//     	write a docker-load tarball here, for the export target
	//   -i	open a shell in a step that fails (needs a terminal; see engine.Interactive)
	//   -oci string
	//     	write an OCI image tarball here, for the export target
	//   -publish string
	//     	image reference to push to, with a tag, for the publish target
}
