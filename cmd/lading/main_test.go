package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/internal/testenv/testengine"
	"github.com/ladingbuild/lading/internal/units"
	"github.com/ladingbuild/lading/sdk"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"engine"}, {"build"}, {"engine", "explode"}, {"engine", "status", "--nope"}} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, &out, &errOut)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
}

// Sizes and durations are human units; bad ones are usage errors that say
// what is wanted, before any engine is reached.
func TestPruneFlagsUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--keep-duration", "3days"}, "e.g. 12h or 3d"},
		{[]string{"--keep-storage", "lots"}, "e.g. 512MiB or 10GB"},
		{[]string{"--all", "--volume", "go-mod"}, "give one of them"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"engine", "prune", "--addr", "unix:///nonexistent.sock"}, tc.args...)
		err := run(t.Context(), args, &out, &errOut)
		require.ErrorIs(t, err, errUsage, "%v", tc.args)
		assert.Contains(t, errOut.String(), tc.want, "%v", tc.args)
	}
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"engine", "start", "--disk", "ten gigs"}, &out, &errOut)
	require.ErrorIs(t, err, units.ErrSyntax)
	assert.Contains(t, err.Error(), "engine.WithDiskBudget(\"ten gigs\")")
}

func TestParsedPruneFlags(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	var p pruneFlags
	p.register(fs)
	require.NoError(t, fs.Parse([]string{"-keep-duration", "3d", "-keep-storage", "10GB", "-volume", "a", "-volume", "b"}))
	assert.Equal(t, 72*time.Hour, p.keepDur)
	assert.Equal(t, int64(10<<30), p.keepSize)
	assert.Equal(t, multiFlag{"a", "b"}, p.volumes)
}

// du lists a cache volume by name, and prune -volume removes it (and only
// volumes so named: the shared engine's others stay).
func TestDiskUsageListsVolumesAndPruneRemovesOne(t *testing.T) {
	eng, env := testengine.Connect(t)
	vol := fmt.Sprintf("du-test-%d", time.Now().UnixNano())
	_, err := eng.Build(t.Context(), sdk.From("debian:bookworm-slim").
		WithMountedCache("/cache", sdk.CacheVolume(vol)).
		WithExec([]string{"sh", "-c", "head -c 300000 /dev/urandom > /cache/data; echo " + vol}))
	require.NoError(t, err)

	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "du", "--addr", env.BuildkitHost}, &out, &errOut))
	assert.Regexp(t, `(?m)^VOLUME\s+SIZE\s+LAST USED\s+MOUNTED AT$`, out.String())
	assert.Regexp(t, `(?m)^`+vol+`\s+(29|30)\d\.\d KiB\s+\d+s ago\s+/cache$`, out.String())
	assert.Regexp(t, `(?m)^volumes:\s+\d+, `, out.String())

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"engine", "prune", "--addr", env.BuildkitHost, "--volume", vol, "--volume", vol + "-none"}, &out, &errOut))
	assert.Contains(t, out.String(), `no cache volume named "`+vol+`-none"`)
	assert.Regexp(t, `removed 1 records, reclaimed (29|30)\d\.\d KiB`, out.String())

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"engine", "du", "--addr", env.BuildkitHost}, &out, &errOut))
	assert.NotContains(t, out.String(), vol)
}

func TestNoEngine(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"engine", "status", "--addr", "unix://" + t.TempDir() + "/none.sock"}, &out, &errOut)
	require.ErrorIs(t, err, engine.ErrNoEngine)
}

func TestStatusDiskUsagePrune(t *testing.T) {
	env := testenv.Require(t)
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "status", "--addr", env.BuildkitHost}, &out, &errOut))
	assert.Contains(t, out.String(), "address:  "+env.BuildkitHost)
	assert.Contains(t, out.String(), "version:  buildkit v")
	assert.Contains(t, out.String(), "executor=oci")

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"engine", "du", "--addr", env.BuildkitHost}, &out, &errOut))
	assert.Contains(t, out.String(), "reclaimable:")

	out.Reset()
	// Keeps everything used in the last hour: the shared engine's cache stays warm.
	require.NoError(t, run(t.Context(), []string{"engine", "prune", "--addr", env.BuildkitHost, "--keep-duration", "1h"}, &out, &errOut))
	assert.Contains(t, out.String(), "removed")
}

func TestBytesString(t *testing.T) {
	assert.Equal(t, "512 B", bytesString(512))
	assert.Equal(t, "1.5 KiB", bytesString(1536))
	assert.Equal(t, "2.0 GiB", bytesString(2<<30))
}

// start --disk writes the budget, and start and status show it.
func TestStartWithDiskBudget(t *testing.T) {
	bin := testenv.Buildkitd(t)
	dir, err := os.MkdirTemp("", "ld-") //nolint:usetesting // unix socket paths must be short
	require.NoError(t, err)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("BUILDKIT_HOST", "")
	t.Setenv("LADING_BUILDKITD", bin)
	t.Cleanup(func() {
		var out, errOut bytes.Buffer
		assert.NoError(t, run(context.Background(), []string{"engine", "stop"}, &out, &errOut))
		os.RemoveAll(dir)
	})

	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "start", "--disk", "300MB"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "disk budget: 300.0 MiB\n")
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"engine", "status"}, &out, &errOut))
	assert.Contains(t, out.String(), "budget:   300.0 MiB of disk for the build cache\n")
}
