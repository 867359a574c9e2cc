package bundle_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/internal/testenv/testengine"
	"github.com/ladingbuild/lading/sdk"
)

// published is an image the test pushed to the test registry.
type published struct{ ref, digest string }

// fixture publishes the images the integration tests bundle: an image on
// debian:bookworm-slim with provenance, a two-platform image with
// provenance, and the base itself.
type fixture struct {
	eng              *engine.Engine
	reg              string
	app, multi, base published
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	eng, env := testengine.Connect(t)
	tag := "t" + testenv.Token(t)
	f := &fixture{eng: eng, reg: env.Registry}
	f.app.ref = env.Registry + "/lading-test/bundle-app:" + tag
	dgst, err := eng.Publish(t.Context(), appImage(tag), f.app.ref)
	require.NoError(t, err)
	f.app.digest = dgst
	f.multi.ref = env.Registry + "/lading-test/bundle-multi:" + tag
	multi := sdk.Scratch().WithNewFile("/hello.txt", "hello "+tag+"\n")
	dgst, err = eng.With(engine.WithPlatforms("linux/amd64", "linux/arm64")).Publish(t.Context(), multi, f.multi.ref)
	require.NoError(t, err)
	f.multi.digest = dgst
	f.base.ref = env.Registry + "/library/debian:bookworm-slim"
	f.base.digest = servedDigest(t, f.base.ref)
	return f
}

// appImage is a small image on the debian:bookworm-slim stand-in, so it
// shares its base layers with the base image.
func appImage(tag string) *sdk.Container {
	return sdk.From("debian:bookworm-slim").WithNewFile("/etc/app.conf", "tag="+tag+"\n").WithEntrypoint("/bin/cat", "/etc/app.conf")
}

// servedDigest is the digest a registry serves for ref.
func servedDigest(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	d, err := remote.Head(r, remote.WithContext(t.Context()))
	require.NoError(t, err)
	return d.Digest.String()
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func TestBundleCarriesImagesToAnEmptyRegistry(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "images.tar")
	_, err := bundle.Create(t.Context(), out, []bundle.Source{
		bundle.Remote(f.app.ref), bundle.Remote(f.multi.ref), bundle.Remote(f.base.ref),
	})
	require.NoError(t, err)
	// An image the engine builds goes straight into the bundle.
	built := "registry.example.com/team/built:1.0"
	_, err = f.eng.Build(t.Context(), appImage("built"), engine.Bundle(out, built))
	require.NoError(t, err)

	c, err := bundle.Verify(t.Context(), out)
	require.NoError(t, err)
	require.Len(t, c.Images, 4)
	byRef := map[string]bundle.Image{}
	for _, img := range c.Images {
		byRef[img.Ref] = img
	}
	app, multi, base := byRef[f.app.ref], byRef[f.multi.ref], byRef[f.base.ref]
	assert.Equal(t, f.app.digest, app.Digest)
	assert.Equal(t, f.multi.digest, multi.Digest)
	assert.Equal(t, f.base.digest, base.Digest)
	assert.Positive(t, app.Attestations, "the app's provenance is in the bundle")
	assert.Equal(t, 2, multi.Attestations, "one attestation manifest per platform")
	var plats []string
	for _, p := range multi.Platforms {
		plats = append(plats, p.Platform)
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, plats)
	require.Contains(t, byRef, built, "the engine's image is named by its reference")
	assert.Equal(t, 1, byRef[built].Attestations, "the engine's image carries its provenance")

	// Shared layers are stored once: the app and the engine's image use
	// the base's layers, and the bundle weighs about its unique blobs.
	assert.Less(t, c.Size, app.Size+base.Size+byRef[built].Size+multi.Size-base.Size, "the base layers count once")
	fi, err := os.Stat(out)
	require.NoError(t, err)
	ratio := float64(fi.Size()) / float64(c.Size)
	t.Logf("bundle %d bytes, unique blobs %d bytes: ratio %.4f", fi.Size(), c.Size, ratio)
	assert.LessOrEqual(t, ratio, 1.02)
	names := tarEntries(t, out)
	seen := map[string]bool{}
	for _, n := range names {
		assert.False(t, seen[n], "%s is stored twice", n)
		seen[n] = true
	}

	// Into an empty registry, and back.
	site, uploads := countingRegistry(t, testenv.EmptyRegistry(t))
	pushed, err := bundle.Push(t.Context(), out, site+"/mirror")
	require.NoError(t, err)
	require.Len(t, pushed, 4)
	uploads.Range(func(k, v any) bool {
		assert.Equal(t, 1, *v.(*int), "blob %s is uploaded once", k)
		return true
	})
	var back []bundle.Source
	for _, p := range pushed {
		assert.True(t, strings.HasPrefix(p.Target, site+"/mirror/"), p.Target)
		assert.Equal(t, p.Digest, servedDigest(t, p.Target), "%s keeps its digest", p.Ref)
		back = append(back, bundle.Remote(p.Target))
	}
	assert.Equal(t, site+"/mirror/lading-test/bundle-multi:"+strings.SplitN(f.multi.ref, ":", 3)[2], pushed[1].Target)
	// Pulling every blob back from the site gives the same images.
	again, err := bundle.Create(t.Context(), filepath.Join(t.TempDir(), "back"), back)
	require.NoError(t, err)
	require.Len(t, again.Images, 4)
	for i, img := range again.Images {
		assert.Equal(t, c.Images[i].Digest, img.Digest)
		assert.Equal(t, c.Images[i].Platforms, img.Platforms)
		assert.Equal(t, c.Images[i].Size, img.Size)
	}
	assert.Equal(t, c.Size, again.Size)
}

// countingRegistry puts a proxy in front of reg that counts the finished
// blob uploads per digest.
func countingRegistry(t *testing.T, reg string) (string, *sync.Map) {
	t.Helper()
	u, err := url.Parse("http://" + reg)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	counts := &sync.Map{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := r.URL.Query().Get("digest"); r.Method == http.MethodPut && d != "" {
			mu.Lock()
			n, _ := counts.LoadOrStore(d, new(int))
			*n.(*int)++
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), counts
}

func TestPushRefusesADamagedBundle(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "images")
	c, err := bundle.Create(t.Context(), dir, []bundle.Source{bundle.Remote(f.app.ref)})
	require.NoError(t, err)
	p := c.Images[0].Platforms[0]
	// The app's own layer: the last of its manifest.
	m, err := remote.Get(mustRef(t, f.app.ref+"@"+p.Digest))
	require.NoError(t, err)
	img, err := m.Image()
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	last, err := layers[len(layers)-1].Digest()
	require.NoError(t, err)
	require.NoError(t, flipByte(filepath.Join(dir, "blobs", "sha256", last.Hex)))

	site := testenv.EmptyRegistry(t)
	_, err = bundle.Push(t.Context(), dir, site)
	var be *bundle.BlobError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, last.String(), be.Digest)
	assert.Equal(t, f.app.ref, be.Image)
	assert.Contains(t, be.What, "layer")
	resp, err := http.Get("http://" + site + "/v2/_catalog")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.JSONEq(t, `{"repositories":[]}`, string(body), "nothing was pushed")
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	require.NoError(t, err)
	return r
}

// stallingRegistry is the test registry behind a proxy that holds the
// first blob download until its request is cancelled, and says when it
// got there.
func stallingRegistry(t *testing.T, reg string) (host string, stalled <-chan struct{}) {
	t.Helper()
	u, err := url.Parse("http://" + reg)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	ch := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			once.Do(func() { close(ch) })
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), ch
}

func TestInterruptedWriteLeavesNothing(t *testing.T) {
	env := testenv.Require(t)
	srcs, _, _ := twoImages(t)
	for _, form := range []string{"dir", "images.tar"} {
		t.Run(form, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, form)
			_, err := bundle.Create(t.Context(), out, srcs[:1])
			require.NoError(t, err)
			before := treeSums(t, parent)

			host, stalled := stallingRegistry(t, env.Registry)
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				<-stalled
				cancel()
			}()
			_, err = bundle.Add(ctx, out, []bundle.Source{bundle.Remote(host + "/library/debian:bookworm-slim")})
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, before, treeSums(t, parent), "the bundle is as it was, and nothing is left beside it")
		})
	}
}

// treeSums maps every file under dir to its content's hash.
func treeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			sums[rel+"/"] = ""
			return nil
		}
		sums[rel] = fileSum(t, p)
		return nil
	}))
	return sums
}

func TestFailedBuildLeavesTheBundleAlone(t *testing.T) {
	eng, _ := testengine.Connect(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "images.tar")
	_, err := eng.Build(t.Context(), appImage("first"), engine.Bundle(out, "registry.example.com/app:1.0"))
	require.NoError(t, err)
	before := treeSums(t, parent)
	failing := appImage("second").WithExec([]string{"sh", "-c", "exit 3"})
	_, err = eng.Build(t.Context(), failing, engine.Bundle(out, "registry.example.com/app:2.0"))
	var ee *engine.ExecError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, before, treeSums(t, parent))
	c, err := bundle.List(t.Context(), out)
	require.NoError(t, err)
	require.Len(t, c.Images, 1)
	assert.Equal(t, "registry.example.com/app:1.0", c.Images[0].Ref)
	_, err = eng.Build(t.Context(), sdk.Scratch().WithNewFile("/x", "x").Directory("/"), engine.Bundle(out, "registry.example.com/app:3.0"))
	require.ErrorContains(t, err, "not a container")
	_, err = eng.Build(t.Context(), appImage("third"), engine.Bundle(out, "registry.example.com/app"))
	require.ErrorContains(t, err, "has no tag")
	_, err = eng.Build(t.Context(), appImage("third"), engine.Bundle("", "registry.example.com/app:3.0"))
	require.ErrorContains(t, err, "no bundle path")
	assert.Equal(t, before, treeSums(t, parent))
}

// writeDockerConfig writes a Docker config with credentials for registry
// and points DOCKER_CONFIG at it.
func writeDockerConfig(t *testing.T, registry, user, pass string) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, registry, auth)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
	t.Setenv("DOCKER_CONFIG", dir)
}

// Push and Remote take credentials from the Docker config.
func TestCredentialsFromTheDockerConfig(t *testing.T) {
	srcs, _, _ := twoImages(t)
	out := filepath.Join(t.TempDir(), "images")
	c, err := bundle.Create(t.Context(), out, srcs)
	require.NoError(t, err)
	site := testenv.AuthRegistry(t)

	writeDockerConfig(t, site, testenv.RegistryUser, "wrong")
	_, err = bundle.Push(t.Context(), out, site)
	var terr *transport.Error
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, http.StatusUnauthorized, terr.StatusCode)

	writeDockerConfig(t, site, testenv.RegistryUser, testenv.RegistryPassword)
	pushed, err := bundle.Push(t.Context(), out, site)
	require.NoError(t, err)
	back, err := bundle.Create(t.Context(), filepath.Join(t.TempDir(), "back"), []bundle.Source{bundle.Remote(pushed[0].Target)})
	require.NoError(t, err)
	assert.Equal(t, c.Images[0].Digest, back.Images[0].Digest)
}
