package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// pushMarker publishes a scratch image holding /marker = content to ref and
// returns its digest.
func pushMarker(t *testing.T, e *Engine, ref, content string) string {
	t.Helper()
	dgst, err := e.Publish(t.Context(), sdk.Scratch().WithNewFile("/marker", content), ref)
	require.NoError(t, err)
	return dgst
}

// markerOf builds v's root filesystem into a directory and reads /marker.
func markerOf(t *testing.T, e *Engine, v *sdk.Container) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, e.Export(t.Context(), v, dir))
	dt, err := os.ReadFile(filepath.Join(dir, "marker"))
	require.NoError(t, err)
	return string(dt)
}

// TestLockPinnedKeepsTheLockedDigest locks a tag, moves the tag in the
// registry, and checks that pinned builds keep the old image while live
// builds take the new one, that Lock reports the move, and that a frozen
// build of an unlocked base fails naming it and its Go line.
func TestLockPinnedKeepsTheLockedDigest(t *testing.T) {
	e, env := testEngine(t)
	repo := fmt.Sprintf("%s/lading-test/lock-%d", env.Registry, time.Now().UnixNano())
	ref := repo + ":stable"
	first := pushMarker(t, e, ref, "one")

	app := sdk.From(ref)
	locked, err := e.Lock(t.Context(), app)
	require.NoError(t, err)
	got, ok := locked.Image(ref, "linux/amd64")
	require.True(t, ok, "lock: %s", locked.Bytes())
	assert.Equal(t, first, got)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, locked.Write(path))

	second := pushMarker(t, e, ref, "two")
	require.NotEqual(t, first, second)

	pinned := e.With(WithLock(path, lock.Pinned))
	assert.Equal(t, "one", markerOf(t, pinned, app), "a pinned build keeps the locked digest")
	assert.Equal(t, "two", markerOf(t, e, app), "a live build takes what the tag names now")
	frozen := e.With(WithLock(path, lock.Frozen))
	assert.Equal(t, "one", markerOf(t, frozen, app), "a frozen build of locked sources works")

	updated, err := e.Lock(t.Context(), app)
	require.NoError(t, err)
	changes := lock.Diff(locked, updated)
	require.Len(t, changes, 1)
	assert.Equal(t, lock.Change{Kind: "image", Source: ref + " (linux/amd64)", From: first, To: second}, changes[0])
	assert.Contains(t, changes[0].String(), "moved "+first+" -> "+second)

	other := repo + ":unlocked"
	pushMarker(t, e, other, "three")
	unlocked, at := sdk.From(other), lllb.Caller(0) // the line the error names
	_, err = frozen.Build(t.Context(), unlocked)
	var nl *lock.NotLockedError
	require.ErrorAs(t, err, &nl)
	assert.Equal(t, other, nl.Source)
	assert.Equal(t, at.String(), nl.Location)
	assert.Contains(t, err.Error(), "lading lock update")

	// Pinned resolves what the lock does not record live.
	assert.Equal(t, "three", markerOf(t, pinned, unlocked))
}

// TestLockFrozenFailsOnAnUnlockedPlatform: a lock that records a tag for
// one platform does not pin it for another; frozen says which.
func TestLockFrozenFailsOnAnUnlockedPlatform(t *testing.T) {
	e, env := testEngine(t)
	ref := fmt.Sprintf("%s/lading-test/lockp-%d:v1", env.Registry, time.Now().UnixNano())
	dgst := pushMarker(t, e, ref, "one")
	f := lock.New()
	f.SetImage(ref, "linux/arm64", dgst)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, f.Write(path))
	_, err := e.With(WithLock(path, lock.Frozen)).Build(t.Context(), sdk.From(ref))
	var nl *lock.NotLockedError
	require.ErrorAs(t, err, &nl)
	assert.Equal(t, "linux/amd64", nl.Platform)
	assert.Contains(t, err.Error(), "lock_integration_test.go:")
}

// TestLockMissingFile: a pinned build without a lock says how to make one.
func TestLockMissingFile(t *testing.T) {
	e, _ := testEngine(t)
	_, err := e.With(WithLock(filepath.Join(t.TempDir(), "lading.lock"), lock.Pinned)).Build(t.Context(), sdk.Scratch())
	require.ErrorIs(t, err, lock.ErrNoLock)
	assert.Contains(t, err.Error(), "lading lock update")
}

// TestLockFromEnvironment: LADING_LOCK and LADING_LOCK_FILE set the mode
// and path when WithLock is not given; a bad mode is an error.
func TestLockFromEnvironment(t *testing.T) {
	e, _ := testEngine(t)
	path := filepath.Join(t.TempDir(), "none.lock")
	t.Setenv("LADING_LOCK_FILE", path)
	t.Setenv("LADING_LOCK", "frozen")
	_, err := e.Build(t.Context(), sdk.Scratch())
	require.ErrorIs(t, err, lock.ErrNoLock)
	assert.Contains(t, err.Error(), path)
	t.Setenv("LADING_LOCK", "sometimes")
	_, err = e.Build(t.Context(), sdk.Scratch())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "LADING_LOCK")
	assert.NotErrorIs(t, err, lock.ErrNoLock)
}

// TestLockMultiPlatform locks a multi-platform tag for two platforms,
// moves it, and checks that pinned builds for each platform keep the
// locked image, and a live one takes the new.
func TestLockMultiPlatform(t *testing.T) {
	e, env := testEngine(t)
	ref := fmt.Sprintf("%s/lading-test/lockmp-%d:v1", env.Registry, time.Now().UnixNano())
	both := e.With(WithPlatforms("linux/amd64", "linux/arm64"))
	first, err := both.Publish(t.Context(), sdk.Scratch().WithNewFile("/marker", "one"), ref)
	require.NoError(t, err)
	locked, err := both.Lock(t.Context(), sdk.From(ref))
	require.NoError(t, err)
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		got, ok := locked.Image(ref, p)
		require.True(t, ok, "%s: %s", p, locked.Bytes())
		assert.Equal(t, first, got, p)
	}
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, locked.Write(path))
	_, err = both.Publish(t.Context(), sdk.Scratch().WithNewFile("/marker", "two"), ref)
	require.NoError(t, err)
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		one := e.With(WithPlatforms(p))
		assert.Equal(t, "one", markerOf(t, one.With(WithLock(path, lock.Frozen)), sdk.From(ref)), p)
		assert.Equal(t, "two", markerOf(t, one, sdk.From(ref)), p)
	}
}
