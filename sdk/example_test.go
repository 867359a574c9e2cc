package sdk_test

import (
	"errors"
	"fmt"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

func planText(v sdk.Value) string { return sdktest.PlanOf(v).String() }

// A two-stage build: compile in a golang image, ship the binary in a small
// runtime image that runs as a non-root user.
func Example() {
	build := sdk.From("golang:1.26").
		WithWorkdir("/src").
		WithNewFile("/src/main.go", "package main\nfunc main() {}\n").
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
		WithExec([]string{"go", "build", "-o", "/out/app", "main.go"})
	app := sdk.From("debian:bookworm-slim").
		WithFile("/usr/local/bin/app", build.File("/out/app")).
		WithUser("10001").
		WithEntrypoint("/usr/local/bin/app")
	for _, s := range sdktest.PlanOf(app).Steps() {
		fmt.Println(s.Index, s.Op, s.Args)
	}
	fmt.Println(sdktest.PlanOf(app).Image())
	// Output:
	// 1 from [debian:bookworm-slim]
	// 2 from [golang:1.26]
	// 3 newfile [/src/main.go mode=0644 size=28]
	// 4 exec [go build -o /out/app main.go]
	// 5 copy [/out/app /usr/local/bin/app]
	// image base=debian:bookworm-slim user=10001 entrypoint=["/usr/local/bin/app"]
}

// Bad arguments never panic: they surface as a ValidationError that names
// the step, the argument, the call site and a fix.
func ExampleValidationError() {
	c := sdk.From("debian:bookworm").WithWorkdir("src")
	var verr *sdk.ValidationError
	if errors.As(sdktest.PlanOf(c).Err(), &verr) {
		fmt.Println(verr.Op, verr.Arg)
		fmt.Println(verr.Problem)
	}
	// Output:
	// WithWorkdir dir
	// relative path "src"
}

// Proxy settings reach exec steps but never the image config.
func ExampleContainer_WithProxy() {
	c := sdk.From("debian:bookworm").
		WithProxy(sdk.Proxy{HTTP: "http://proxy.internal:3128"}).
		WithExec([]string{"apt-get", "update"})
	p := sdktest.PlanOf(c)
	fmt.Println(p.Execs()[0].Proxy, p.Image().Env)
	// Output:
	// true []
}

// Secrets are referenced by name only.
func ExampleContainer_WithSecretEnv() {
	token := sdk.SecretFromValue("npm-token", "not-printed")
	c := sdk.From("node:22").
		WithSecretEnv("NPM_TOKEN", token).
		WithExec([]string{"npm", "ci"})
	fmt.Println(sdktest.PlanOf(c).Execs()[0].SecretEnv)
	// Output:
	// [NPM_TOKEN=secret:npm-token]
}

// Cache volumes persist between builds; the sharing mode says how
// concurrent builds use them.
func ExampleContainer_WithMountedCache() {
	c := sdk.From("maven:3.9-eclipse-temurin-17").
		WithMountedCache("/root/.m2", sdk.CacheVolume("m2"), sdk.Locked).
		WithExec([]string{"mvn", "-B", "package"})
	fmt.Println(sdktest.PlanOf(c).Execs()[0].Mounts[0])
	// Output:
	// /root/.m2:cache:m2:locked
}

// Directories are values too: build one, then hand it to a container.
func ExampleDirectory() {
	site := sdk.NewDirectory().
		WithNewFile("index.html", "<h1>hi</h1>").
		WithNewFile("robots.txt", "")
	c := sdk.From("nginx:1.27").WithDirectory("/usr/share/nginx/html", site)
	fmt.Print(sdktest.PlanOf(c).Steps()[len(sdktest.PlanOf(c).Steps())-1].Op)
	// Output:
	// copy
}
