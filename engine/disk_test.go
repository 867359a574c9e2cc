package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/units"
)

// The generated gc policies read back, through buildkitd's own config
// loader, as the rules gcSection documents.
func TestGCPolicyLoadsInBuildkitd(t *testing.T) {
	t.Parallel()
	s := defaultSettings()
	toml := buildkitdConfig(&s, localPaths{root: "/r", socket: "/s"}, diskBudget{bytes: 10 << 30, why: "test"})
	cfg, err := bkconfig.Load(strings.NewReader(toml))
	require.NoError(t, err)
	w := cfg.Workers.OCI
	require.NotNil(t, w.GC)
	assert.True(t, *w.GC)
	require.Len(t, w.GCPolicy, 5)
	pol := w.GCPolicy
	assert.Equal(t, []string{"type!=exec.cachemount"}, pol[0].Filters)
	assert.Equal(t, 7*24*time.Hour, pol[0].KeepDuration.Duration)
	assert.Zero(t, pol[0].MaxUsedSpace)
	assert.Equal(t, []string{"type==exec.cachemount"}, pol[1].Filters)
	assert.Equal(t, 30*24*time.Hour, pol[1].KeepDuration.Duration)
	for i, p := range pol[2:] {
		assert.Equal(t, int64(10<<30), p.MaxUsedSpace.Bytes, "policy %d", i+2)
		assert.Equal(t, int64(5), p.MinFreeSpace.Percentage, "policy %d", i+2)
		assert.Zero(t, p.KeepDuration.Duration, "policy %d", i+2)
	}
	assert.Equal(t, []string{"type!=exec.cachemount"}, pol[2].Filters)
	assert.Empty(t, pol[3].Filters)
	assert.False(t, pol[3].All)
	assert.True(t, pol[4].All)
}

func TestResolveDiskBudget(t *testing.T) {
	root := t.TempDir()
	total, err := filesystemSize(root)
	require.NoError(t, err)
	require.Positive(t, total)

	t.Setenv("LADING_ENGINE_DISK", "")
	s := defaultSettings()
	b, err := resolveDiskBudget(&s, filepath.Join(root, "not", "yet"))
	require.NoError(t, err)
	assert.Equal(t, min(max(total/10, 1<<30), 10<<30), b.bytes, "default: 10%% of %d bytes, 1 to 10 GiB", total)
	assert.Contains(t, b.why, "default")

	t.Setenv("LADING_ENGINE_DISK", "300MB")
	b, err = resolveDiskBudget(&s, root)
	require.NoError(t, err)
	assert.Equal(t, diskBudget{bytes: 300 << 20, why: "LADING_ENGINE_DISK"}, b)

	WithDiskBudget("2GiB")(&s)
	require.NoError(t, s.err)
	b, err = resolveDiskBudget(&s, root)
	require.NoError(t, err)
	assert.Equal(t, diskBudget{bytes: 2 << 30, why: "engine.WithDiskBudget"}, b, "the option wins over the environment")

	s = defaultSettings()
	WithDiskBudget("15%")(&s)
	b, err = resolveDiskBudget(&s, root)
	require.NoError(t, err)
	assert.Equal(t, total*15/100, b.bytes)

	t.Setenv("LADING_ENGINE_DISK", "lots")
	s = defaultSettings()
	_, err = resolveDiskBudget(&s, root)
	require.ErrorIs(t, err, units.ErrSyntax)
	assert.Contains(t, err.Error(), `LADING_ENGINE_DISK="lots"`)
	assert.Contains(t, err.Error(), "10GB")
}

func TestWithDiskBudgetBadInput(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "0", "0%", "101%", "-5GB", "ten gigs"} {
		s := defaultSettings()
		s.at = atStartLocal
		WithDiskBudget(in)(&s)
		require.ErrorIs(t, s.err, units.ErrSyntax, "%q", in)
		assert.Contains(t, s.err.Error(), "engine.WithDiskBudget(", "%q", in)
	}
	s := defaultSettings()
	s.at = atWith
	WithDiskBudget("10GB")(&s)
	require.Error(t, s.err)
	assert.Contains(t, s.err.Error(), "engine.WithDiskBudget has no effect in Engine.With")
}

func TestConfiguredBudget(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "buildkitd.toml")
	assert.Zero(t, configuredBudget(path))
	s := defaultSettings()
	require.NoError(t, os.WriteFile(path, []byte(buildkitdConfig(&s, localPaths{}, diskBudget{bytes: 12345, why: "x"})), 0o600))
	assert.Equal(t, int64(12345), configuredBudget(path))
}
