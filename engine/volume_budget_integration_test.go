package engine

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// The disk budget holds once a build returns, the records its volume
// saves made included: the save's copy of a 60 MiB volume must not stay on
// top of a 200 MiB budget until BuildKit's next gc.
func TestBudgetHoldsAfterVolumeSaves(t *testing.T) {
	env := testenv.Require(t)
	bin := testenv.Buildkitd(t)
	isolateLocal(t)
	const budget = 200 << 20
	_, err := StartLocal(t.Context(), WithBuildkitd(bin), Silent(), WithDiskBudget("200MB"),
		WithRegistryMirror("docker.io", env.Registry), WithInsecureRegistry(env.Registry))
	require.NoError(t, err)
	e, err := Connect(t.Context(), Silent(), WithProgress(ProgressQuiet), WithoutAutoStart(),
		WithCache(LocalCache(filepath.Join(t.TempDir(), "cache"))))
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })

	vol := sdk.CacheVolume("budget-save-" + uniqueTag(t))
	_, err = e.output(t.Context(), volumeWriter(vol, "head -c 62914560 /dev/urandom > /data/big; echo built"))
	require.NoError(t, err)
	du, err := e.DiskUsage(t.Context())
	require.NoError(t, err)
	assert.LessOrEqual(t, du.Total, int64(budget), "the cache fits the budget when the build returns")
	vols := du.Volumes()
	require.Len(t, vols, 1, "the volume is kept")
	assert.GreaterOrEqual(t, vols[0].Size, int64(60<<20))
}
