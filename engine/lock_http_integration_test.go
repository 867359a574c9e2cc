package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// fileServer serves content() at every path on loopback, with a fresh
// Last-Modified so that the engine fetches it again.
func fileServer(t *testing.T) (string, *atomic.Value) {
	t.Helper()
	var content atomic.Value
	content.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		_, _ = w.Write([]byte(content.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	return fmt.Sprintf("%s/tool-%d", srv.URL, time.Now().UnixNano()), &content
}

func sha256Of(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestLockHTTP locks a download that sdk.HTTP gives no checksum, changes
// what the server sends, and checks: Lock records the sha256 of what the
// engine fetched, a live build takes the new content, a pinned build
// verifies against the locked checksum and fails naming the URL, the Go
// line and `lading lock update`, Diff reports the moved checksum, and
// frozen refuses an unlocked download before solving.
func TestLockHTTP(t *testing.T) {
	e, _ := testEngine(t)
	url, content := fileServer(t)
	content.Store("one")
	dl, at := sdk.HTTP(url, ""), lllb.Caller(0)
	app := sdk.Scratch().WithFile("/marker", dl)

	locked, err := e.Lock(t.Context(), app)
	require.NoError(t, err)
	sum, ok := locked.Checksum(url)
	require.True(t, ok, "lock: %s", locked.Bytes())
	assert.Equal(t, sha256Of("one"), sum)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, locked.Write(path))

	pinned := e.With(WithLock(path, lock.Pinned))
	assert.Equal(t, "one", markerOf(t, pinned, app), "a pinned build of unchanged content")

	content.Store("two")
	assert.Equal(t, "two", markerOf(t, e, app), "a live build takes what the server sends now")
	// The engine still holds the locked content: a pinned build keeps it
	// (or, once the engine dropped it, refuses what the server sends now).
	if marker, err := markerOrErr(t, pinned, app); err != nil {
		var changed *DownloadChangedError
		require.ErrorAs(t, err, &changed)
	} else {
		assert.Equal(t, "one", marker, "a pinned build keeps the locked content")
	}

	updated, err := e.Lock(t.Context(), app)
	require.NoError(t, err)
	assert.Equal(t, []lock.Change{{Kind: "http", Source: url, From: sha256Of("one"), To: sha256Of("two")}}, lock.Diff(locked, updated))

	// A checksum the engine holds no content for: the pinned build
	// downloads, and BuildKit refuses what the server sends now.
	other := url + "-moved"
	stale := lock.New()
	stale.SetHTTP(other, sha256Of("one"))
	stalePath := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, stale.Write(stalePath))
	moved, movedAt := sdk.Scratch().WithFile("/marker", sdk.HTTP(other, "")), lllb.Caller(0)
	_, err = e.With(WithLock(stalePath, lock.Pinned)).Build(t.Context(), moved)
	var changed *DownloadChangedError
	require.ErrorAs(t, err, &changed, "%v", err)
	assert.Equal(t, other, changed.URL)
	assert.Equal(t, movedAt.String(), changed.Location)
	one, two := sha256Of("one"), sha256Of("two")
	assert.Equal(t, one, changed.Checksum)
	assert.Equal(t, two, changed.Served)
	assert.Equal(t, stalePath, changed.Lock)
	assert.Contains(t, err.Error(), "run `lading lock update`")
	assert.Equal(t, "two", markerOf(t, e, moved), "live still takes it")

	// A checksum the code gives that the content no longer has.
	wrong := sdk.Scratch().WithFile("/marker", sdk.HTTP(url+"-code", sha256Of("one")))
	_, err = e.Build(t.Context(), wrong)
	require.ErrorAs(t, err, &changed, "%v", err)
	assert.Empty(t, changed.Lock)
	assert.Contains(t, err.Error(), "update the checksum in the code")
	assert.Contains(t, err.Error(), "lock_http_integration_test.go:")

	// Frozen: an unlocked download fails before anything is solved.
	_, err = e.With(WithLock(stalePath, lock.Frozen)).Build(t.Context(), app)
	var nl *lock.NotLockedError
	require.ErrorAs(t, err, &nl)
	assert.Equal(t, "http", nl.Kind)
	assert.Equal(t, url, nl.Source)
	assert.Equal(t, at.String(), nl.Location)
}

// markerOrErr is markerOf that returns the build's error.
func markerOrErr(t *testing.T, e *Engine, v *sdk.Container) (string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	if err := e.Export(t.Context(), v, dir); err != nil {
		return "", err
	}
	dt, err := os.ReadFile(filepath.Join(dir, "marker"))
	require.NoError(t, err)
	return string(dt), nil
}

// TestSkipNeverSkipsALiveDownload: with WithSkipUnchanged, a build with a
// download without a checksum is never skipped: the server may send
// something else now (it was skipped as unchanged before the fix), while
// one with a checksum still is.
func TestSkipNeverSkipsALiveDownload(t *testing.T) {
	e, env := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-http"), WithSkipUnchanged())
	url, content := fileServer(t)
	content.Store("one")
	for _, tc := range []struct {
		name     string
		checksum string
		skipped  bool
	}{{"live", "", false}, {"checksum", sha256Of("one"), true}} {
		ref := fmt.Sprintf("%s/lading-test/skiphttp-%s-%d:v1", env.Registry, tc.name, time.Now().UnixNano())
		app := sdk.Scratch().WithFile("/marker", sdk.HTTP(url+"-"+tc.name, tc.checksum))
		_, err := e.Publish(t.Context(), app, ref)
		require.NoError(t, err)
		var progress lockedBuffer
		res, err := e.With(WithProgress(ProgressPlain), WithProgressOutput(&progress)).Build(t.Context(), app, Registry(ref))
		require.NoError(t, err)
		if tc.skipped {
			assert.NotEmpty(t, res.Summary.Skipped, tc.name)
			continue
		}
		assert.Empty(t, res.Summary.Skipped, tc.name)
		assert.Contains(t, progress.String(), "not skipped: download http "+url+"-live has no checksum", tc.name)
	}
}

// TestLockHTTPThroughThePolicy: Lock resolves a download through the
// source policy: a denial is a *PolicyDeniedError with the sdk.HTTP line,
// and a rewrite to a mirror locks the mirror's content, which a pinned
// build with the same policy then verifies.
func TestLockHTTPThroughThePolicy(t *testing.T) {
	e, _ := testEngine(t)
	url, content := fileServer(t)
	content.Store("upstream")
	mirror, mirrored := fileServer(t)
	mirrored.Store("mirror")
	app, at := sdk.Scratch().WithFile("/marker", sdk.HTTP(url, "")), lllb.Caller(0)

	deny := e.With(WithSourcePolicy(func(s Source) Decision {
		if s.Kind == HTTPSource {
			return Deny("no downloads")
		}
		return Allow()
	}))
	_, err := deny.Lock(t.Context(), app)
	var pd *PolicyDeniedError
	require.ErrorAs(t, err, &pd)
	assert.Equal(t, at.String(), pd.Source.Location)
	assert.Equal(t, url, pd.Source.Ref)

	rewrite := e.With(WithSourcePolicy(func(s Source) Decision {
		if s.Kind == HTTPSource && s.Ref == url {
			return Rewrite(mirror)
		}
		return Allow()
	}))
	f, err := rewrite.Lock(t.Context(), app)
	require.NoError(t, err)
	sum, ok := f.Checksum(url)
	require.True(t, ok, "%s", f.Bytes())
	assert.Equal(t, sha256Of("mirror"), sum, "the lock records what the mirror serves, under the program's URL")
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, f.Write(path))
	assert.Equal(t, "mirror", markerOf(t, rewrite.With(WithLock(path, lock.Frozen)), app))

	// The mirror changes: the pinned build's error names the program's
	// URL and line, though BuildKit fetched the mirror's.
	moved := sdk.Scratch().WithFile("/marker", sdk.HTTP(url+"-moved", ""))
	stale := lock.New()
	stale.SetHTTP(url+"-moved", sha256Of("mirror"))
	stalePath := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, stale.Write(stalePath))
	mirrored.Store("mirror, changed")
	toMirror := e.With(WithSourcePolicy(func(s Source) Decision {
		if s.Kind == HTTPSource && s.Ref == url+"-moved" {
			return Rewrite(mirror + "-moved")
		}
		return Allow()
	}), WithLock(stalePath, lock.Pinned))
	_, err = toMirror.Build(t.Context(), moved)
	var changed *DownloadChangedError
	require.ErrorAs(t, err, &changed, "%v", err)
	assert.Equal(t, url+"-moved", changed.URL)
}

// TestLockHTTPKeepsCredentialsOut: a download whose URL carries a user
// and password is locked under the masked URL (the password never reaches
// the lock file), a pinned build still finds its checksum, and a frozen
// build's error does not show it.
func TestLockHTTPKeepsCredentialsOut(t *testing.T) {
	e, _ := testEngine(t)
	url, content := fileServer(t)
	content.Store("one")
	const sentinel = "s3cr3t-sentinel"
	withCreds := strings.Replace(url, "http://", "http://ci:"+sentinel+"@", 1)
	app := sdk.Scratch().WithFile("/marker", sdk.HTTP(withCreds, ""))
	f, err := e.Lock(t.Context(), app)
	require.NoError(t, err)
	assert.NotContains(t, string(f.Bytes()), sentinel)
	sum, ok := f.Checksum(withCreds)
	require.True(t, ok, "%s", f.Bytes())
	assert.Equal(t, sha256Of("one"), sum)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, f.Write(path))
	assert.Equal(t, "one", markerOf(t, e.With(WithLock(path, lock.Frozen)), app))

	empty := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, lock.New().Write(empty))
	_, err = e.With(WithLock(empty, lock.Frozen)).Build(t.Context(), app)
	var nl *lock.NotLockedError
	require.ErrorAs(t, err, &nl)
	assert.NotContains(t, err.Error(), sentinel)

	deny := e.With(WithSourcePolicy(func(Source) Decision { return Deny("no") }))
	_, err = deny.Build(t.Context(), app)
	var pd *PolicyDeniedError
	require.ErrorAs(t, err, &pd)
	assert.NotContains(t, err.Error(), sentinel)
}
