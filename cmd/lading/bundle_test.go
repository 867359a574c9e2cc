package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
	"github.com/ladingbuild/lading/internal/testenv"
)

// ociTarball writes a random image as an OCI tarball named ref.
func ociTarball(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(4096, 2)
	require.NoError(t, err)
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	require.NoError(t, lp.AppendImage(img))
	tar := filepath.Join(t.TempDir(), "image.tar")
	_, err = bundle.Create(t.Context(), tar, []bundle.Source{bundle.OCILayout(dir, ref)})
	require.NoError(t, err)
	return tar
}

// `lading bundle` creates a bundle from OCI tarballs, lists and verifies
// it, pushes it into an empty registry, and names a damaged blob.
func TestBundleCommand(t *testing.T) {
	one := ociTarball(t, "registry.example.com/team/one:1.0")
	two := ociTarball(t, "registry.example.com/team/two:2.0")
	out := filepath.Join(t.TempDir(), "images")
	cmd := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), append([]string{"bundle"}, args...), &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}

	s, err := cmd(out, one)
	require.NoError(t, err, s)
	s, err = cmd("create", "-add", out, two)
	require.NoError(t, err, s)
	assert.Contains(t, s, "wrote "+out)
	s, err = cmd("ls", out)
	require.NoError(t, err, s)
	assert.Contains(t, s, "registry.example.com/team/one:1.0")
	assert.Contains(t, s, "registry.example.com/team/two:2.0")
	assert.Contains(t, s, "2 images, 8 blobs")
	s, err = cmd("ls", "-json", out)
	require.NoError(t, err, s)
	var listed bundle.Contents
	require.NoError(t, json.Unmarshal([]byte(s), &listed))
	require.Len(t, listed.Images, 2)
	assert.Equal(t, "registry.example.com/team/two:2.0", listed.Images[1].Ref)
	s, err = cmd("verify", out)
	require.NoError(t, err, s)
	assert.Contains(t, s, "ok, 2 images, 8 blobs")

	// A directory bundle becomes a tar bundle.
	tarOut := filepath.Join(t.TempDir(), "images.tar")
	s, err = cmd("create", tarOut, out)
	require.NoError(t, err, s)
	assert.Contains(t, s, "2 images, 8 blobs")

	site := testenv.EmptyRegistry(t)
	s, err = cmd("push", out, site)
	require.NoError(t, err, s)
	assert.Contains(t, s, "pushed "+site+"/team/one:1.0@sha256:")
	assert.Contains(t, s, "pushed "+site+"/team/two:2.0@sha256:")

	c, err := bundle.List(t.Context(), out)
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(out, "blobs", "sha256", c.Images[1].Platforms[0].Digest[len("sha256:"):])))
	_, err = cmd("verify", out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(image manifest of registry.example.com/team/two:2.0) is missing")

	for _, args := range [][]string{{}, {"ls"}, {"verify", "a", "b"}, {"push", out}, {"-x"}, {"create", out}} {
		_, err := cmd(args...)
		require.ErrorIs(t, err, errUsage, "%q", args)
	}
}
