package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// engine start and engine status say where the running buildkitd came
// from, as recorded beside the cached binary (here a record as a first
// start from the image writes it, over the test environment's buildkitd).
func TestEngineStatusShowsBinarySource(t *testing.T) {
	bin := testenv.Buildkitd(t)
	dir, err := os.MkdirTemp("", "ld-") //nolint:usetesting // unix socket paths must be short
	require.NoError(t, err)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("BUILDKIT_HOST", "")
	t.Setenv("LADING_BUILDKITD", "")
	t.Setenv("LADING_ENGINE_IMAGE", "")
	var path []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "buildkitd")); err != nil {
			path = append(path, d)
		}
	}
	t.Setenv("PATH", strings.Join(path, string(os.PathListSeparator)))
	t.Cleanup(func() {
		var out, errOut bytes.Buffer
		assert.NoError(t, run(context.Background(), []string{"engine", "stop"}, &out, &errOut))
		os.RemoveAll(dir)
	})

	cached := filepath.Join(dir, "cache", "lading", "bin", "buildkitd")
	require.NoError(t, os.MkdirAll(filepath.Dir(cached), 0o755))
	src, err := os.Open(bin)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(cached, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
	digest := "sha256:" + strings.Repeat("5", 64)
	require.NoError(t, os.WriteFile(cached+".source", []byte(`{"from":"image","version":"v0.34.2",
"image":"docker.io/moby/buildkit:v0.34.2","digest":"`+digest+`","platform":"linux/amd64","registry":"127.0.0.1:5000"}`), 0o644))

	want := cached + " (buildkitd v0.34.2) from image docker.io/moby/buildkit:v0.34.2@" + digest + " (linux/amd64, via 127.0.0.1:5000)\n"
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "start"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "binary: "+want)
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"engine", "status"}, &out, &errOut))
	assert.Contains(t, out.String(), "binary:   "+want)
}
