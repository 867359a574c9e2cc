package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

func ExampleConnect() {
	ctx := context.Background()
	eng, err := engine.Connect(ctx) // BUILDKIT_HOST, or the local engine
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	app := sdk.From("debian:bookworm-slim").
		WithExec([]string{"apt-get", "install", "-y", "curl"}).
		WithEntrypoint("curl")
	digest, err := eng.Publish(ctx, app, "registry.example.com/curl:1.0", "latest")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(digest)
}

func ExampleEngine_Build() {
	ctx := context.Background()
	eng, err := engine.Connect(ctx, engine.WithProgress(engine.ProgressPlain))
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	build := sdk.From("golang:1.26").
		WithDirectory("/src", sdk.Host(".")).
		WithWorkdir("/src").
		WithExec([]string{"go", "build", "-o", "/out/app", "."})
	res, err := eng.Build(ctx, build,
		engine.OCITarball("dist/app.oci.tar", "app:dev"))
	var xe *engine.ExecError
	if errors.As(err, &xe) {
		log.Fatalf("%s failed (exit %d) at %s:\n%v", xe.Step, xe.ExitCode, xe.Location, xe.Output)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Summary)
}

func ExampleExecError() {
	err := fmt.Errorf("build: %w", &engine.ExecError{
		Step: "exec go test ./...", Args: []string{"go", "test", "./..."},
		ExitCode: 1, Output: []string{"--- FAIL: TestX", "FAIL"}, Location: "ci/main.go:42",
	})
	var xe *engine.ExecError
	if errors.As(err, &xe) {
		fmt.Println(xe.ExitCode, xe.Location)
		fmt.Println(err)
	}
	// Output:
	// 1 ci/main.go:42
	// build: step "exec go test ./..." (ci/main.go:42) exited with code 1; last output:
	//   --- FAIL: TestX
	//   FAIL
}

func ExampleErrNoEngine() {
	ctx := context.Background()
	_, err := engine.Connect(ctx, engine.WithAddress("unix:///nonexistent/buildkitd.sock"), engine.Silent())
	fmt.Println(errors.Is(err, engine.ErrNoEngine))
	// Output: true
}
