package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

var (
	fillOnce sync.Once
	fillDir  string
	fillErr  error
)

// fillContainer is ltContainer with testdata/fill at /bin/fill, built once
// per test binary, for steps that write new data into cache volumes.
func fillContainer(t *testing.T) *sdk.Container {
	t.Helper()
	fillOnce.Do(func() {
		fillDir, fillErr = os.MkdirTemp("", "lading-fill-") //nolint:usetesting // shared by the binary's tests
		if fillErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(fillDir, "fill"), "./testdata/fill")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOCACHE="+goCache)
		if out, err := cmd.CombinedOutput(); err != nil {
			fillErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	require.NoError(t, fillErr, "building testdata/fill")
	return ltContainer(t).WithDirectory("/bin", sdk.Host(fillDir))
}
