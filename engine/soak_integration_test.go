package engine

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// The soak test's numbers: a 300 MiB budget, and builds that each write
// 16 MiB of new data into one of four cache volumes and 4 MiB into their
// own layer, 1.2 GiB in all, four times the budget.
const (
	soakBudget  = 300 << 20
	soakBuilds  = 60
	soakVolumes = 4
	soakVolData = 16 << 20
	soakLayer   = 4 << 20
	// soakSlack is what the state directory may hold beyond the budget
	// between builds: BuildKit's own files (bolt databases, content
	// store, the copies of the test tools), measured at 2 to 3 MiB.
	// During a build, what it writes comes on top until it ends.
	soakSlack = 16 << 20
)

// Many builds writing new data into cache volumes keep the local engine's
// disk under its budget plus soakSlack, and every build passes.
func TestSoakDiskStaysWithinBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test takes about a minute")
	}
	bin := testenv.Buildkitd(t)
	isolateLocal(t)
	// The state directory under the test's own temporary directory.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	p := localEnginePaths()
	t.Cleanup(func() { unmountUnder(p.root) })
	ctx := t.Context()

	le, err := StartLocal(ctx, WithBuildkitd(bin), Silent(), WithDiskBudget("300MB"))
	require.NoError(t, err)
	require.Equal(t, int64(soakBudget), le.DiskBudget)
	e, err := Connect(ctx, Silent(), WithProgress(ProgressQuiet), WithoutAutoStart())
	require.NoError(t, err)
	defer e.Close()

	base := fillContainer(t)
	var maxDu, maxState int64
	start := time.Now()
	var buildTimes []time.Duration
	for i := range soakBuilds {
		vol := fmt.Sprintf("soak-%d", i%soakVolumes)
		t0 := time.Now()
		_, err := e.Build(ctx, base.
			WithMountedCache("/cache", sdk.CacheVolume(vol)).
			WithExec([]string{"/bin/fill", fmt.Sprintf("/cache/data-%d", i), strconv.Itoa(soakVolData)}).
			WithExec([]string{"/bin/fill", "/out/layer", strconv.Itoa(soakLayer + i)}))
		require.NoError(t, err, "build %d", i)
		buildTimes = append(buildTimes, time.Since(t0))

		du, err := e.DiskUsage(ctx)
		require.NoError(t, err)
		state := diskUsed(t, p.root)
		maxDu, maxState = max(maxDu, du.Total), max(maxState, state)
		assert.LessOrEqual(t, du.Total, int64(soakBudget+soakSlack), "build %d: engine reports %d bytes", i, du.Total)
		assert.LessOrEqual(t, state, int64(soakBudget+soakSlack), "build %d: %s holds %d bytes", i, p.root, state)
	}
	elapsed := time.Since(start)
	vols, err := e.CacheVolumes(ctx)
	require.NoError(t, err)
	t.Logf("%d builds in %s (median build %s), %d MiB written; peak: engine %d MiB, state dir %d MiB; budget %d MiB; %d volumes left",
		soakBuilds, elapsed.Round(time.Second), median(buildTimes).Round(time.Millisecond),
		soakBuilds*(soakVolData+soakLayer)>>20, maxDu>>20, maxState>>20, soakBudget>>20, len(vols))
	assert.Greater(t, maxDu, int64(soakBudget/2), "the builds came near the budget: the test exercised it")

	logText, err := os.ReadFile(p.log)
	require.NoError(t, err)
	assert.NotContains(t, string(logText), "gc error", "buildkitd applied the generated gc policies")
}

// diskUsed is what du says the directory holds, in bytes.
func diskUsed(t *testing.T, dir string) int64 {
	t.Helper()
	out, err := exec.Command("du", "-sx", "-B1", dir).Output()
	require.NoError(t, err)
	n, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	require.NoError(t, err)
	return n
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
