package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
	"github.com/ladingbuild/lading/internal/testenv"
)

// bundleCmd runs `lading bundle args...` in dir and returns its output.
func bundleCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(t.Context(), append([]string{"bundle"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// A mistyped subcommand is not the short form of create: nothing is
// written under its name, and the error says what was meant.
func TestBundleMistypedCommandWritesNothing(t *testing.T) {
	src := ociTarball(t, "registry.example.com/team/one:1.0")
	t.Chdir(t.TempDir())
	for typo, meant := range map[string]string{"verfiy": "verify", "lst": "ls", "pusj": "push", "craete": "create"} {
		_, _, err := bundleCmd(t, typo, src)
		require.ErrorIs(t, err, errUsage, typo)
		assert.Contains(t, err.Error(), "did you mean "+meant+"?", typo)
		assert.Contains(t, err.Error(), "lading bundle create "+typo, typo)
		assert.NoFileExists(t, typo)
		assert.NoDirExists(t, typo)
	}
	// A real path is still the short form.
	_, _, err := bundleCmd(t, "images", src)
	require.NoError(t, err)
	assert.DirExists(t, "images")
}

// Wrong arguments are named; -h prints the usage and is not an error.
func TestBundleArgumentErrorsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "needs a command: create, ls, verify or push"},
		{[]string{"create", "out.tar"}, "takes the bundle OUT and at least one IMAGE, got 1 arguments"},
		{[]string{"ls"}, "lading bundle ls takes one BUNDLE, got 0 arguments"},
		{[]string{"verify", "a", "b"}, "lading bundle verify takes one BUNDLE, got 2 arguments"},
		{[]string{"push", "a"}, "takes the BUNDLE and the REGISTRY (host[:port][/path]), got 1 arguments"},
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"ls", "-frob", "a"}, "flag provided but not defined: -frob"},
		{[]string{"create", "out.tar", "./missing.tar"}, `image "./missing.tar": no such file or directory`},
		{[]string{"create", "out.tar", "x:1", "-add"}, "the flag -add comes after the arguments; put flags first (lading bundle create -add …)"},
		{[]string{"ls", "images.tar", "-json"}, "the flag -json comes after the arguments"},
		{[]string{"create", "out.tar", "build/app.tar"}, `image "build/app.tar": no such file or directory`},
	} {
		_, _, err := bundleCmd(t, tt.args...)
		require.ErrorIs(t, err, errUsage, "%q", tt.args)
		assert.Contains(t, err.Error(), tt.want, "%q", tt.args)
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"ls", "-h"}, {"create", "-h"}, {"push", "-help"}} {
		stdout, stderr, err := bundleCmd(t, args...)
		require.NoError(t, err, "%q", args)
		assert.Contains(t, stdout+stderr, "usage: lading bundle create", "%q", args)
	}
}

// skopeoLayout writes what `skopeo copy docker://… oci:DIR:v1` writes: an
// OCI layout whose one entry has a tag and no repository.
func skopeoLayout(t *testing.T) string {
	t.Helper()
	img, err := random.Image(1024, 1)
	require.NoError(t, err)
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	require.NoError(t, lp.AppendImage(img, layout.WithAnnotations(map[string]string{bundle.AnnotationRefName: "v1"})))
	return dir
}

// A layout made by another tool, naming no repository, is listed and
// verified; create and push say how to name it, and PATH=REFERENCE does.
func TestBundleOfALayoutThatNamesNoImage(t *testing.T) {
	dir := skopeoLayout(t)
	out := filepath.Join(t.TempDir(), "images.tar")
	_, _, err := bundleCmd(t, "verify", dir)
	require.NoError(t, err)

	_, _, err = bundleCmd(t, "create", out, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `only the tag "v1"`)
	assert.Contains(t, err.Error(), "lading bundle create OUT "+dir+"=REFERENCE")
	assert.NoFileExists(t, out)

	site := testenv.EmptyRegistry(t)
	_, _, err = bundleCmd(t, "push", dir, site)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lading bundle create OUT BUNDLE=REFERENCE")

	stdout, _, err := bundleCmd(t, "create", out, dir+"=registry.example.com/team/tool:v1")
	require.NoError(t, err)
	assert.Contains(t, stdout, "registry.example.com/team/tool:v1")
	stdout, _, err = bundleCmd(t, "push", out, site)
	require.NoError(t, err)
	assert.Contains(t, stdout, "pushed "+site+"/team/tool:v1@sha256:")

	_, _, err = bundleCmd(t, "create", out, filepath.Join(dir, "none")+"=x:1")
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, err.Error(), "PATH=REFERENCE names the OCI layout or tarball at PATH")
	_, _, err = bundleCmd(t, "create", out, dir+"=")
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, err.Error(), "no reference after =")

	// A layout with two tags: a reference can name only one of them.
	img, err := random.Image(512, 1)
	require.NoError(t, err)
	require.NoError(t, layout.Path(dir).AppendImage(img, layout.WithAnnotations(map[string]string{bundle.AnnotationRefName: "v2"})))
	_, _, err = bundleCmd(t, "create", out, dir+"=registry.example.com/team/tool:v2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "index.json names 2 images (v1, v2), and a reference can name one")
	assert.Contains(t, err.Error(), "skopeo copy oci:"+dir+":TAG oci:ONE:TAG")
}

// An image named by digest only is pushed by digest and printed once;
// an empty bundle is not pushed silently; a registry path the registry
// cannot hold says why.
func TestBundlePushEdgeCases(t *testing.T) {
	src := ociTarball(t, "registry.example.com/team/one:1.0")
	c, err := bundle.List(t.Context(), src)
	require.NoError(t, err)
	dg := c.Images[0].Digest
	byDigest := filepath.Join(t.TempDir(), "bydigest")
	_, err = bundle.Create(t.Context(), byDigest, []bundle.Source{bundle.OCITarball(src, "registry.example.com/team/one@"+dg)})
	require.NoError(t, err)
	site := testenv.EmptyRegistry(t)
	stdout, _, err := bundleCmd(t, "push", byDigest, site)
	require.NoError(t, err)
	assert.Equal(t, "pushed "+site+"/team/one@"+dg+"\n", stdout)

	none := t.TempDir()
	_, err = layout.Write(none, empty.Index)
	require.NoError(t, err)
	_, _, err = bundleCmd(t, "push", none, site)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds no images: nothing to push")

	_, _, err = bundleCmd(t, "push", byDigest, site+"/Mirror")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "repository can only contain")
}

// A push that fails part way says which images are in the registry
// already.
func TestBundlePushThatFailsPartWaySaysWhatWasPushed(t *testing.T) {
	one := ociTarball(t, "registry.example.com/team/one:1.0")
	two := ociTarball(t, "registry.example.com/team/two:2.0")
	out := filepath.Join(t.TempDir(), "images")
	_, err := bundle.Create(t.Context(), out, []bundle.Source{bundle.Bundle(one), bundle.Bundle(two)})
	require.NoError(t, err)
	u, err := url.Parse("http://" + testenv.EmptyRegistry(t))
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/team/two/") {
			if r.Method == http.MethodHead {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			http.Error(w, `{"errors":[{"code":"DENIED","message":"team/two is read-only"}]}`, http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	site := strings.TrimPrefix(srv.URL, "http://")

	stdout, _, err := bundleCmd(t, "push", out, site)
	require.Error(t, err)
	assert.Contains(t, stdout, "pushed "+site+"/team/one:1.0@sha256:")
	assert.NotContains(t, stdout, "team/two")
	assert.Contains(t, err.Error(), "team/two is read-only")
	assert.Contains(t, err.Error(), "the 1 images above were pushed")
}
