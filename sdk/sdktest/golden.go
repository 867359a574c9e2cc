package sdktest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ladingbuild/lading/sdk"
)

var update = flag.Bool("update", false, "rewrite sdktest golden files under testdata/")

// Golden compares v's plan with testdata/<TestName>.plan and fails the test
// on a difference. With -update (or LADING_UPDATE_GOLDEN=1) it rewrites the
// file instead.
func Golden(t testing.TB, v sdk.Value) {
	t.Helper()
	got := PlanOf(v).String()
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	file := filepath.Join("testdata", name+".plan")
	if *update || os.Getenv("LADING_UPDATE_GOLDEN") == "1" {
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
		t.Fatalf("reading golden plan: %v (create it with go test -update)", err)
	}
	if string(want) != got {
		t.Fatalf("plan differs from %s (refresh with go test -update if the change is intended)\n--- want\n%s--- got\n%s", file, want, got)
	}
}
