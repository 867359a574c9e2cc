package sdktest

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// UpdateEnv is the environment variable that makes Golden rewrite golden
// files instead of comparing: LADING_UPDATE_GOLDEN=1 go test ./...
const UpdateEnv = "LADING_UPDATE_GOLDEN"

// Golden compares v's golden text with testdata/<TestName>.plan and fails
// the test on a difference. The text is the plan (PlanOf(v).String()),
// then the compiled LLB definition, one op per line with a digest (see
// below), so a golden file catches a change of the graph and a change of
// what the compiler makes of it.
//
// An invalid value fails the test and writes nothing: a golden file never
// records an error.
//
// With LADING_UPDATE_GOLDEN=1 in the environment, or -update on the
// command line of a test binary that defines a bool flag named "update"
// itself, Golden rewrites the file instead. This package defines no flag.
//
// The compiled section is made offline: no engine, no registry (base
// images are not pinned to a digest), linux/amd64 as both the target and
// the build platform. Host directories are named host-1, host-2… so the
// digests do not depend on where the checkout lives.
func Golden(t testing.TB, v sdk.Value) {
	t.Helper()
	got := goldenText(t, v)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	file := filepath.Join("testdata", name+".plan")
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading golden plan: %v (create it with %s=1 go test)", err, UpdateEnv)
	}
	if string(want) != got {
		t.Fatalf("plan differs from %s (if the change is intended, refresh it with %s=1 go test)\n--- want\n%s--- got\n%s", file, UpdateEnv, want, got)
	}
}

// goldenText is the plan and the compiled definition of v; an invalid
// value, or one that does not compile, fails the test.
func goldenText(t testing.TB, v sdk.Value) string {
	t.Helper()
	p := PlanOf(v)
	if err := p.Err(); err != nil {
		t.Fatalf("golden: the value is invalid, no golden file written or compared: %v", err)
	}
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	prog, err := llb.Compile(t.Context(), p.m, llb.Options{Platform: amd64, BuildPlatform: amd64})
	if err != nil {
		t.Fatalf("golden: the value does not compile, no golden file written or compared: %v", llb.PublicError(err))
	}
	compiled, err := renderLLB(prog)
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	return p.String() + compiled
}

// updating reports whether golden files are to be rewritten: the
// environment says so, or the test binary defined -update and it is set.
func updating() bool {
	if os.Getenv(UpdateEnv) == "1" {
		return true
	}
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	if g, ok := f.Value.(flag.Getter); ok {
		b, ok := g.Get().(bool)
		return ok && b
	}
	b, err := strconv.ParseBool(f.Value.String())
	return err == nil && b
}
