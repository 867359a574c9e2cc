package main

import "github.com/ladingbuild/lading/sdk"

// The build metric's graph: a copy of examples/multistage/graph.go (Build
// and Image), which is package main and so cannot be imported. Keep the
// two identical, step for step; testdata/multistage.Dockerfile is the same
// build as a Dockerfile, and must stay equivalent to both.

// msBuild is examples/multistage's Build.
func msBuild(src *sdk.Directory, proxy sdk.Proxy) *sdk.Container {
	return sdk.From("golang:1.26").
		WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod")).
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
		WithProxy(proxy).
		WithEnv("CGO_ENABLED", "0").
		WithWorkdir("/src").
		// The module files first, so a source change does not repeat the
		// download.
		WithFile("/src/go.mod", src.File("go.mod")).
		WithExec([]string{"go", "mod", "download"}).
		WithDirectory("/src", src).
		WithExec([]string{"go", "test", "./..."}).
		WithExec([]string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/out/hello", "."})
}

// msImage is examples/multistage's Image.
func msImage(build *sdk.Container, version string) *sdk.Container {
	return sdk.From("debian:bookworm-slim").
		WithFile("/usr/local/bin/hello", build.File("/out/hello"), sdk.Permissions(0o755)).
		WithUser("10001:10001").
		WithEntrypoint("/usr/local/bin/hello").
		WithExposedPort(8080).
		WithLabel("org.opencontainers.image.title", "hello").
		WithLabel("org.opencontainers.image.version", version).
		WithLabel("org.opencontainers.image.source", "https://github.com/ladingbuild/lading/tree/main/examples/multistage")
}
