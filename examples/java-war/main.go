// Command java-war builds a servlet web app with Maven, with ~/.m2 as a
// cache volume and the network's proxy passed to Maven, and ships the WAR
// as the ROOT web app of a Tomcat image.
//
//	go run ./examples/java-war                       # test and build
//	go run ./examples/java-war smoke                 # run it and request a page
//	go run ./examples/java-war -publish registry.example.com/hello-war:1.0 publish
//	go run ./examples/java-war -oci hello.tar export
//	go run ./examples/java-war -bundle images.tar export   # add it to an offline bundle
package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

func main() {
	p := pipeline.New("java-war")
	src := p.Flags().String("src", defaultSource("pom.xml"), "directory of the Maven project")
	version := p.Flags().String("version", "dev", "version of the image (label and tarball tag)")

	build := func() *sdk.Container { return Build(sdk.Host(*src), sdk.ProxyFromEnv()) }
	image := func() *sdk.Container { return Image(build(), *version) }

	p.Target("test", "package the WAR with Maven (runs its tests)", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, build())
		return err
	})
	p.ImageTargets(pipeline.Image{
		Name:  "hello-war",
		Tag:   version,
		Build: image,
		Smoke: func() *sdk.Container { return Smoke(image()) },
		After: []string{"test"},
	})
	p.LintTarget(pipeline.Lint{}) // go run . lint: the images' graphs, offline
	p.Main()
}

// defaultSource finds app/ beside this file, so the example runs from the
// repository root or from its own directory.
func defaultSource(marker string) string {
	for _, dir := range []string{"examples/java-war/app", "app"} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return dir
		}
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "app")
}
