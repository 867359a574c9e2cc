// Command multistage builds a Go HTTP service the way a careful team
// would: tests and a static build in a golang image with cached modules,
// the binary alone in a slim runtime image running as a non-root user.
//
//	go run ./examples/multistage                       # test and build
//	go run ./examples/multistage -publish registry.example.com/hello:1.0 publish
//	go run ./examples/multistage -oci hello.tar export
//	go run ./examples/multistage smoke                 # run it and request a page
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

func main() {
	p := pipeline.New("multistage")
	src := p.Flags().String("src", defaultSource(), "directory of the Go service")
	version := p.Flags().String("version", "dev", "version label of the image")
	publish := p.Flags().String("publish", "", "image reference to push to (with a tag), for the publish target")
	oci := p.Flags().String("oci", "", "write an OCI image tarball here, for the export target")
	docker := p.Flags().String("docker", "", "write a docker-load tarball here, for the export target")

	build := func() *sdk.Container { return Build(sdk.Host(*src), sdk.ProxyFromEnv()) }
	image := func() *sdk.Container { return Image(build(), *version) }

	p.Target("test", "run the service's tests in the build stage", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, build())
		return err
	})
	p.Target("build", "build the runtime image", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, image())
		return err
	}, "test")
	p.Target("smoke", "start the image and request a page", func(ctx context.Context, e *engine.Engine) error {
		out, err := e.Stdout(ctx, Smoke(image()))
		fmt.Print(out)
		return err
	}, "build")
	p.Target("publish", "push the image to -publish", func(ctx context.Context, e *engine.Engine) error {
		if *publish == "" {
			return errors.New("give the image reference with -publish, e.g. -publish registry.example.com/hello:1.0")
		}
		dgst, err := e.Publish(ctx, image(), *publish)
		if err == nil {
			fmt.Printf("published %s@%s\n", *publish, dgst)
		}
		return err
	}, "build")
	p.Target("export", "write the image to -oci and/or -docker tarballs", func(ctx context.Context, e *engine.Engine) error {
		var outs []engine.Output
		if *oci != "" {
			outs = append(outs, engine.OCITarball(*oci, "hello:"+*version))
		}
		if *docker != "" {
			outs = append(outs, engine.DockerTarball(*docker, "hello:"+*version))
		}
		if len(outs) == 0 {
			return errors.New("give -oci PATH and/or -docker PATH")
		}
		_, err := e.Build(ctx, image(), outs...)
		return err
	}, "build")
	p.Default("build")
	p.Main()
}

// defaultSource finds app/ beside this file, so the example runs from the
// repository root or from its own directory.
func defaultSource() string {
	for _, dir := range []string{"examples/multistage/app", "app"} {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "app")
}
