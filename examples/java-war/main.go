// Command java-war builds a servlet web app with Maven, with ~/.m2 as a
// cache volume and the network's proxy passed to Maven, and ships the WAR
// as the ROOT web app of a Tomcat image.
//
//	go run ./examples/java-war                       # test and build
//	go run ./examples/java-war -publish registry.example.com/hello-war:1.0 publish
//	go run ./examples/java-war -oci hello.tar export
//	go run ./examples/java-war smoke                 # run it and request a page
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
	p := pipeline.New("java-war")
	src := p.Flags().String("src", defaultSource(), "directory of the Maven project")
	version := p.Flags().String("version", "dev", "version label of the image")
	publish := p.Flags().String("publish", "", "image reference to push to (with a tag), for the publish target")
	oci := p.Flags().String("oci", "", "write an OCI image tarball here, for the export target")
	docker := p.Flags().String("docker", "", "write a docker-load tarball here, for the export target")

	build := func() *sdk.Container { return Build(sdk.Host(*src), sdk.ProxyFromEnv()) }
	image := func() *sdk.Container { return Image(build(), *version) }

	p.Target("test", "package the WAR with Maven (runs its tests)", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, build())
		return err
	})
	p.Target("build", "build the runtime image", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, image())
		return err
	}, "test")
	p.Target("smoke", "start Tomcat in the image and request a page", func(ctx context.Context, e *engine.Engine) error {
		out, err := e.Stdout(ctx, Smoke(image()))
		fmt.Print(out)
		return err
	}, "build")
	p.Target("publish", "push the image to -publish", func(ctx context.Context, e *engine.Engine) error {
		if *publish == "" {
			return errors.New("give the image reference with -publish, e.g. -publish registry.example.com/hello-war:1.0")
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
			outs = append(outs, engine.OCITarball(*oci, "hello-war:"+*version))
		}
		if *docker != "" {
			outs = append(outs, engine.DockerTarball(*docker, "hello-war:"+*version))
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
	for _, dir := range []string{"examples/java-war/app", "app"} {
		if _, err := os.Stat(filepath.Join(dir, "pom.xml")); err == nil {
			return dir
		}
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "app")
}
