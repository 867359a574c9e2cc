package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv/testengine"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

const imageProg = "testdata/imageprog"

// TestLint runs `lading lint` on a pipeline program: a latest base fails
// (exit status 1) with the finding and its Go line; a pinned one passes;
// -json prints the report.
func TestLint(t *testing.T) {
	t.Setenv("IMAGEPROG_REF", "debian:latest")
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"lint", imageProg}, &out, &errOut)
	require.ErrorIs(t, err, errLintFindings, errOut.String())
	assert.Contains(t, out.String(), "imageprog/main.go:19: error [base-latest]")

	out.Reset()
	err = run(t.Context(), []string{"lint", "-json", imageProg}, &out, &errOut)
	require.ErrorIs(t, err, errLintFindings)
	var doc struct {
		Failing int `json:"failing"`
		Images  []struct {
			Name string `json:"name"`
		} `json:"images"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	assert.Equal(t, 1, doc.Failing)
	require.Len(t, doc.Images, 1)
	assert.Equal(t, "app", doc.Images[0].Name)

	t.Setenv("IMAGEPROG_REF", "debian:bookworm@sha256:"+fmt.Sprintf("%064d", 0))
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"lint", imageProg}, &out, &errOut), out.String())
	assert.Contains(t, out.String(), "0 fail the check")
}

// TestLintUsage: a directory that is not there is a usage error.
func TestLintUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	require.ErrorIs(t, run(t.Context(), []string{"lint", filepath.Join(t.TempDir(), "none")}, &out, &errOut), errUsage)
	require.ErrorIs(t, run(t.Context(), []string{"lock", "explode"}, &out, &errOut), errUsage)
}

// TestLockUpdateAndCheck runs `lading lock update` and `lading lock check`
// on the real engine and registry: a new lock is written, then current;
// after the tag moves, check fails naming the move and update reports it;
// lint accepts the locked tag.
func TestLockUpdateAndCheck(t *testing.T) {
	eng, env := testengine.Connect(t)
	ref := fmt.Sprintf("%s/lading-test/lockcmd-%d:v1", env.Registry, time.Now().UnixNano())
	push := func(content string) string {
		dgst, err := eng.Publish(t.Context(), sdk.Scratch().WithNewFile("/marker", content), ref)
		require.NoError(t, err)
		return dgst
	}
	first := push("one")
	t.Setenv("IMAGEPROG_REF", ref)
	t.Setenv("IMAGEPROG_INSECURE", env.Registry)
	t.Setenv("BUILDKIT_HOST", env.BuildkitHost)
	path := filepath.Join(t.TempDir(), "lading.lock")

	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"lock", "update", "-lock", path, imageProg}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "image "+ref+" (linux/amd64): added "+first)
	f, err := lock.Read(path)
	require.NoError(t, err)
	got, _ := f.Image(ref, "linux/amd64")
	assert.Equal(t, first, got)

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"lock", "check", "-lock", path, imageProg}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "is current")

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"lint", "-lock", path, imageProg}, &out, &errOut))
	assert.NotContains(t, out.String(), "base-unpinned", "the lock pins the tag")

	second := push("two")
	out.Reset()
	err = run(t.Context(), []string{"lock", "check", "-lock", path, imageProg}, &out, &errOut)
	require.ErrorIs(t, err, errLockStale)
	assert.Contains(t, err.Error(), "lading lock update")
	assert.Contains(t, out.String(), "moved "+first+" -> "+second)

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"lock", "update", "-lock", path, imageProg}, &out, &errOut))
	assert.Contains(t, out.String(), "image "+ref+" (linux/amd64): moved "+first+" -> "+second)
	f, err = lock.Read(path)
	require.NoError(t, err)
	got, _ = f.Image(ref, "linux/amd64")
	assert.Equal(t, second, got)
}
