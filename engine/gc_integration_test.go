package engine

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// Over budget, step results go before cache volumes: a build writes 60 MiB
// into a volume and 80 MiB into its own layer under a 100 MiB budget, and
// afterwards the volume is still there and the total fits. Both lading's
// sweep after a build and BuildKit's gc, with the policies lading writes,
// do it. BuildKit's gc runs a second after the engine starts and then at
// most once a minute, so its case waits for the next run, about a minute.
func TestOverBudgetDropsLayersBeforeVolumes(t *testing.T) {
	for _, tc := range []struct {
		name string
		// viaAddress connects by address, so lading does not know the
		// budget and leaves the work to BuildKit's gc.
		viaAddress bool
	}{{"sweep", false}, {"buildkit-gc", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := ownEngine(t, WithDiskBudget("100MB"))
			ctx := t.Context()
			if tc.viaAddress {
				if testing.Short() {
					t.Skip("waits a minute for BuildKit's gc")
				}
				// Let the gc run that follows the start pass, so that the
				// next one finds the build done.
				time.Sleep(2 * time.Second)
				var err error
				e, err = Connect(ctx, Silent(), WithProgress(ProgressQuiet), WithAddress(e.Address()))
				require.NoError(t, err)
				defer e.Close()
			}
			_, err := e.Build(ctx, fillContainer(t).
				WithMountedCache("/cache", sdk.CacheVolume("kept")).
				WithExec([]string{"/bin/fill", "/cache/data", strconv.Itoa(60 << 20)}).
				WithExec([]string{"/bin/fill", "/out/layer", strconv.Itoa(80 << 20)}))
			require.NoError(t, err)
			var du *DiskUsage
			deadline := time.Now().Add(90 * time.Second)
			for {
				du, err = e.DiskUsage(ctx)
				require.NoError(t, err)
				if du.Total <= 100<<20 || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			assert.LessOrEqual(t, du.Total, int64(100<<20), "the cache fits the budget")
			vols, err := e.CacheVolumes(ctx)
			require.NoError(t, err)
			require.Len(t, vols, 1, "the volume is kept")
			assert.Equal(t, "kept", vols[0].Name)
			assert.GreaterOrEqual(t, vols[0].Size, int64(60<<20))
		})
	}
}

// A running engine keeps the budget it started with; asking for another
// says how to apply it.
func TestRunningEngineKeepsItsBudget(t *testing.T) {
	bin := testenv.Buildkitd(t)
	isolateLocal(t)
	ctx := t.Context()
	le, err := StartLocal(ctx, WithBuildkitd(bin), Silent(), WithDiskBudget("300MB"))
	require.NoError(t, err)
	assert.Equal(t, int64(300<<20), le.DiskBudget)

	var log logBuffer
	again, err := StartLocal(ctx, WithBuildkitd(bin), WithLogOutput(&log), WithDiskBudget("1GB"))
	require.NoError(t, err)
	assert.Equal(t, le.PID, again.PID)
	assert.Equal(t, int64(300<<20), again.DiskBudget)
	assert.Contains(t, log.String(), "keeps its disk budget of 314572800 bytes; stop it (lading engine stop) to apply 1073741824 bytes")

	log = logBuffer{}
	_, err = StartLocal(ctx, WithBuildkitd(bin), WithLogOutput(&log), WithDiskBudget("300MB"))
	require.NoError(t, err)
	assert.Empty(t, log.String(), "the same budget is no news")
	st, err := LocalStatus(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(300<<20), st.DiskBudget)
}
