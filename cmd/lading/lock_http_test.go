package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv/testengine"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// TestLockUpdateDownloads runs `lading lock update` over a lock file that
// is corrupt (the errors say to run lock update: it must write it anew)
// for a program with a download without a checksum: the lock records its
// sha256, lint with the lock accepts it and without reports it, and
// `lock check` fails once the server sends something else.
func TestLockUpdateDownloads(t *testing.T) {
	eng, env := testengine.Connect(t)
	ref := fmt.Sprintf("%s/lading-test/lockhttp-%d:v1", env.Registry, time.Now().UnixNano())
	_, err := eng.Publish(t.Context(), sdk.Scratch().WithNewFile("/marker", "one"), ref)
	require.NoError(t, err)
	var content atomic.Value
	content.Store("one")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		_, _ = w.Write([]byte(content.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	url := fmt.Sprintf("%s/tool-%d", srv.URL, time.Now().UnixNano())
	t.Setenv("IMAGEPROG_REF", ref)
	t.Setenv("IMAGEPROG_HTTP", url)
	t.Setenv("IMAGEPROG_INSECURE", env.Registry)
	t.Setenv("BUILDKIT_HOST", env.BuildkitHost)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, os.WriteFile(path, []byte("{\"version\":1,\n<<<<<<< HEAD\n"), 0o644))

	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"lock", "update", "-lock", path, imageProg}, &out, &errOut), errOut.String())
	assert.Contains(t, errOut.String(), "writing it anew")
	sum := sha256.Sum256([]byte("one"))
	want := "sha256:" + hex.EncodeToString(sum[:])
	assert.Contains(t, out.String(), "http "+url+": added "+want)
	f, err := lock.Read(path)
	require.NoError(t, err)
	got, ok := f.Checksum(url)
	require.True(t, ok)
	assert.Equal(t, want, got)

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"lint", "-lock", path, imageProg}, &out, &errOut))
	assert.NotContains(t, out.String(), "download-unverified", "the lock pins the download")
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"lint", "-lock", filepath.Join(t.TempDir(), "none.lock"), imageProg}, &out, &errOut))
	assert.Contains(t, out.String(), "warning [download-unverified]")

	content.Store("two")
	out.Reset()
	err = run(t.Context(), []string{"lock", "check", "-lock", path, imageProg}, &out, &errOut)
	require.ErrorIs(t, err, errLockStale)
	assert.Contains(t, out.String(), "http "+url+": moved "+want)

	// check does not rewrite a corrupt lock: it fails, saying so.
	require.NoError(t, os.WriteFile(path, []byte("{"), 0o644))
	err = run(t.Context(), []string{"lock", "check", "-lock", path, imageProg}, &out, &errOut)
	require.ErrorIs(t, err, lock.ErrBadLock)
}
