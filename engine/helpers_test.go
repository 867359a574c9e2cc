package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// testEngine connects to the shared test environment's engine, skipping
// (or failing in CI) when it is not configured. Its pushes carry no SBOM
// unless LADING_SBOM or an option asks for one (a scan per publishing
// test would cost minutes; the default is tested in attest_sbom tests).
func testEngine(t *testing.T, opts ...Option) (*Engine, testenv.Env) {
	t.Helper()
	env := testenv.Require(t)
	base := []Option{WithAddress(env.BuildkitHost), Silent(), WithProgress(ProgressQuiet), WithInsecureRegistry(env.Registry)}
	if os.Getenv("LADING_SBOM") == "" {
		base = append(base, WithoutSBOM())
	}
	opts = append(base, opts...)
	e, err := Connect(t.Context(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e, env
}

var (
	ltOnce sync.Once
	ltDir  string
	ltErr  error
)

// ltTool builds testdata/lt, a static tool, once per test binary and
// returns the directory holding it.
func ltTool(t *testing.T) string {
	t.Helper()
	ltOnce.Do(func() {
		// Shared by every test of the binary (TestMain removes it), so
		// not one test's t.TempDir.
		ltDir, ltErr = os.MkdirTemp("", "lading-lt-") //nolint:usetesting // see above
		if ltErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(ltDir, "lt"), "./testdata/lt")
		// Tests move XDG_CACHE_HOME; keep Go's build cache where it was.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOCACHE="+goCache)
		out, err := cmd.CombinedOutput()
		if err != nil {
			ltErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	require.NoError(t, ltErr, "building testdata/lt")
	return ltDir
}

// ltContainer is a scratch container with lt at /bin/lt: exec steps without
// any base image.
func ltContainer(t *testing.T) *sdk.Container {
	t.Helper()
	return sdk.Scratch().WithDirectory("/bin", sdk.Host(ltTool(t)))
}

// goCache is Go's build cache, read before tests change XDG_CACHE_HOME.
var goCache string

func TestMain(m *testing.M) {
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		goCache = strings.TrimSpace(string(out))
	}
	code := m.Run()
	if ltDir != "" {
		os.RemoveAll(ltDir)
	}
	if fillDir != "" {
		os.RemoveAll(fillDir)
	}
	os.Exit(code)
}
