package graph

import "github.com/ladingbuild/lading/sdk"

// Build is the build stage: module download, tests, then a static,
// trimmed binary at /out/hello. The Go module and build caches persist
// between runs; proxy settings reach the steps but never the image.
func Build(src *sdk.Directory, proxy sdk.Proxy) *sdk.Container {
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

// Image is the runtime image: the binary alone on a slim base, run as an
// unprivileged user. The binary comes from build's last step, which runs
// after its tests, so building the image runs the tests too, in the same
// solve.
func Image(build *sdk.Container, version string) *sdk.Container {
	return sdk.From("debian:bookworm-slim").
		WithFile("/usr/local/bin/hello", build.File("/out/hello"), sdk.Permissions(0o755)).
		WithUser("10001:10001").
		WithEntrypoint("/usr/local/bin/hello").
		WithExposedPort(8080).
		WithLabel("org.opencontainers.image.title", "hello").
		WithLabel("org.opencontainers.image.version", version).
		WithLabel("org.opencontainers.image.source", "https://github.com/ladingbuild/lading/tree/main/examples/multistage")
}

// Smoke starts the image's service in a step on top of it and requests a
// page; the step's output is the page. The step has a network of its own,
// so its port cannot collide with anything else running on the engine.
func Smoke(image *sdk.Container) *sdk.Container {
	return image.
		WithUser("root").
		WithExec([]string{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null"}).
		WithExec([]string{"sh", "-c", `/usr/local/bin/hello -addr 127.0.0.1:8080 & pid=$!
curl -fsS --retry 20 --retry-connrefused --retry-delay 1 'http://127.0.0.1:8080/?name=smoke'
status=$?; kill $pid; exit $status`}, sdk.NoNetwork())
}
