package sdktest_test

import (
	"fmt"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// A plan lists a value's steps, each after the steps it reads, with the
// Go line that made it; tests assert on it with no engine.
func ExamplePlanOf() {
	build := sdk.From("golang:1.26").
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build")).
		WithExec([]string{"go", "build", "-o", "/out/app", "."})
	app := sdk.From("debian:bookworm-slim").
		WithFile("/app", build.File("/out/app")).
		WithUser("10001")
	p := sdktest.PlanOf(app)
	for _, s := range p.Steps() {
		fmt.Println(s.Index, s.Op, s.Args, s.Inputs)
	}
	fmt.Println(p.Image().User)
	// Output:
	// 1 from [debian:bookworm-slim] []
	// 2 from [golang:1.26] []
	// 3 exec [go build -o /out/app .] [2]
	// 4 copy [/out/app /app] [1 3]
	// 10001
}

// A plan of an invalid value has no steps and the error a build would
// report, before any engine is involved.
func ExamplePlan_Err() {
	a := sdk.SecretFromValue("token", "one")
	b := sdk.SecretFromValue("token", "two")
	c := sdk.From("debian:bookworm").
		WithMountedSecret("/run/a", a).
		WithSecretEnv("B", b).
		WithExec([]string{"true"})
	p := sdktest.PlanOf(c)
	fmt.Println(len(p.Steps()), p.Err() != nil)
	fmt.Println(sdktest.PlanOf(nil).Err())
	// Output:
	// 0 true
	// unknown: build: invalid value: the value is nil (pass a *sdk.Container, *sdk.Directory or *sdk.File)
}

// Find a step and check its mounts.
func ExampleStep_Mount() {
	c := sdk.From("maven:3.9").
		WithMountedCache("/root/.m2", sdk.CacheVolume("m2"), sdk.Locked).
		WithExec([]string{"mvn", "-B", "package"})
	step, _ := sdktest.PlanOf(c).FindExec("mvn")
	m, ok := step.Mount("/root/.m2")
	fmt.Println(ok, m.Kind, m.Cache, m.Sharing)
	fmt.Println(m)
	// Output:
	// true cache m2 locked
	// /root/.m2:cache:m2:locked
}

// DependsOn says whether one step reads another's output, directly or
// through other steps: what RequireOrder checks.
func ExamplePlan_DependsOn() {
	base := sdk.From("golang:1.26")
	test := base.WithExec([]string{"go", "test", "./..."})
	lint := base.WithExec([]string{"go", "vet", "./..."})
	build := test.WithExec([]string{"go", "build", "./..."})
	p := sdktest.PlanOf(sdk.From("debian:bookworm").
		WithDirectory("/lint", lint.Directory("/src")).
		WithDirectory("/build", build.Directory("/src")))
	t, _ := p.FindExec("go", "test")
	v, _ := p.FindExec("go", "vet")
	b, _ := p.FindExec("go", "build")
	fmt.Println(p.DependsOn(b, t), p.DependsOn(b, v))
	// Output:
	// true false
}
