package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// ownEngine starts a local engine of the test's own (isolated state, so a
// prune touches nothing shared) and connects to it.
func ownEngine(t *testing.T, opts ...Option) (*Engine, localPaths) {
	t.Helper()
	bin := testenv.Buildkitd(t)
	p := isolateLocal(t)
	_, err := StartLocal(t.Context(), append([]Option{WithBuildkitd(bin), Silent()}, opts...)...)
	require.NoError(t, err)
	e, err := Connect(t.Context(), Silent(), WithProgress(ProgressQuiet), WithoutAutoStart())
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e, p
}

// Prune keeps cache volumes unless they are named or All is set: a build
// writes into two volumes, prune runs, and the next build still finds (or,
// for the volumes it was asked to remove, no longer finds) the files.
// Before the fix every one of these prunes emptied both volumes.
func TestPruneKeepsCacheVolumes(t *testing.T) {
	e, _ := ownEngine(t)
	ctx := t.Context()
	check := 0
	// read reports whether volume vol still holds the file fill wrote.
	read := func(vol string) bool {
		t.Helper()
		check++ // a new command each time, so the step is never cached
		out, err := e.Stdout(ctx, ltContainer(t).
			WithMountedCache("/cache", sdk.CacheVolume(vol)).
			WithExec([]string{"/bin/lt", "cat", "/cache/kept", fmt.Sprint(check)}))
		if err != nil {
			return false
		}
		require.Equal(t, vol+"\n", out)
		return true
	}
	fill := func(vols ...string) {
		t.Helper()
		for _, vol := range vols {
			check++
			_, err := e.Build(ctx, ltContainer(t).
				WithMountedCache("/cache", sdk.CacheVolume(vol)).
				WithExec([]string{"/bin/lt", "write", "/cache/kept", vol + "\n", fmt.Sprint(check)}))
			require.NoError(t, err)
			require.True(t, read(vol), "volume %s holds its file after the build that wrote it", vol)
		}
	}

	for _, tc := range []struct {
		name     string
		opt      PruneOptions
		keepsA   bool
		keepsB   bool
		notFound []string
		// removesNothing: the options spare every record.
		removesNothing bool
	}{
		{name: "default", opt: PruneOptions{}, keepsA: true, keepsB: true},
		{name: "keep-duration", opt: PruneOptions{KeepDuration: time.Millisecond}, keepsA: true, keepsB: true},
		{name: "keep-storage", opt: PruneOptions{KeepBytes: 1}, keepsA: true, keepsB: true},
		{name: "volume", opt: PruneOptions{Volumes: []string{"vol-a", "vol-none"}}, keepsA: false, keepsB: true, notFound: []string{"vol-none"}},
		{name: "volume-used-recently", opt: PruneOptions{Volumes: []string{"vol-a"}, KeepDuration: time.Hour}, keepsA: true, keepsB: true, removesNothing: true},
		{name: "all", opt: PruneOptions{All: true}, keepsA: false, keepsB: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fill("vol-a", "vol-b")
			time.Sleep(5 * time.Millisecond) // older than KeepDuration
			vols, err := e.CacheVolumes(ctx)
			require.NoError(t, err)
			require.Len(t, vols, 2)

			rep, err := e.Prune(ctx, tc.opt)
			require.NoError(t, err)
			if tc.removesNothing {
				assert.Zero(t, rep.Records)
			} else {
				assert.Positive(t, rep.Records, "the step results or volumes go")
			}
			assert.Equal(t, tc.notFound, rep.NotFound)
			du, err := e.DiskUsage(ctx)
			require.NoError(t, err)
			sources := slices.ContainsFunc(du.Records, func(r CacheRecord) bool { return r.Type == "source.local" })
			assert.Equal(t, !tc.opt.All, sources, "host directory copies are kept unless All")
			assert.Equal(t, tc.keepsA, read("vol-a"), "vol-a kept")
			assert.Equal(t, tc.keepsB, read("vol-b"), "vol-b kept")
		})
	}
}

// CacheVolumes names each volume with its size, targets and last use.
func TestCacheVolumesListsByName(t *testing.T) {
	e, _ := ownEngine(t)
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	_, err := e.Build(ctx, fillContainer(t).
		WithMountedCache("/root/.m2", sdk.CacheVolume("maven-repo")).
		WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod")).
		WithExec([]string{"/bin/fill", "/root/.m2/big", fmt.Sprint(1 << 20)}))
	require.NoError(t, err)
	vols, err := e.CacheVolumes(ctx)
	require.NoError(t, err)
	require.Len(t, vols, 2)
	assert.Equal(t, "maven-repo", vols[0].Name, "largest first")
	assert.GreaterOrEqual(t, vols[0].Size, int64(1<<20))
	assert.Equal(t, []string{"/root/.m2"}, vols[0].Targets)
	assert.Equal(t, 1, vols[0].Records)
	assert.False(t, vols[0].InUse)
	assert.True(t, vols[0].LastUsed.After(before), "last used %s", vols[0].LastUsed)
	assert.Equal(t, "go-mod", vols[1].Name)
	assert.Equal(t, []string{"/go/pkg/mod"}, vols[1].Targets)
	assert.Less(t, vols[1].Size, int64(1<<20))
}

// A volume that a running build has mounted is not removed, even when
// named.
func TestPruneSparesMountedVolume(t *testing.T) {
	e, _ := ownEngine(t)
	ctx := t.Context()
	_, err := e.Build(ctx, ltContainer(t).
		WithMountedCache("/cache", sdk.CacheVolume("busy")).
		WithExec([]string{"/bin/lt", "write", "/cache/kept", "busy\n"}))
	require.NoError(t, err)

	started := make(chan struct{})
	busy := e.With(WithEvents(func(ev Event) {
		if ev.Kind == StepStarted && strings.Contains(ev.Name, "sleep") {
			close(started)
		}
	}))
	built := make(chan error, 1)
	sleeper := ltContainer(t).
		WithMountedCache("/cache", sdk.CacheVolume("busy")).
		WithExec([]string{"/bin/lt", "sleep", "5"})
	go func() {
		_, err := busy.Build(ctx, sleeper)
		built <- err
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the step did not start")
	}
	// The step starts a moment before its mounts are taken.
	require.Eventually(t, func() bool {
		vols, err := e.CacheVolumes(ctx)
		return err == nil && len(vols) == 1 && vols[0].InUse
	}, 4*time.Second, 20*time.Millisecond, "the volume shows as in use while the step runs")
	rep, err := e.Prune(ctx, PruneOptions{Volumes: []string{"busy"}})
	require.NoError(t, err)
	assert.Zero(t, rep.Records)
	require.NoError(t, <-built)

	out, err := e.Stdout(ctx, ltContainer(t).
		WithMountedCache("/cache", sdk.CacheVolume("busy")).
		WithExec([]string{"/bin/lt", "cat", "/cache/kept"}))
	require.NoError(t, err)
	assert.Equal(t, "busy\n", out)
}
