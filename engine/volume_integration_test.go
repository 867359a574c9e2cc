package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// volumeWriter writes files into a cache volume and prints what it held.
func volumeWriter(vol sdk.CacheVolume, script string, opts ...sdk.CacheOption) *sdk.Container {
	return sdk.From("debian:bookworm").
		WithMountedCache("/data", vol, opts...).
		WithExec([]string{"sh", "-c", script})
}

// volumeReader prints a file of a cache volume, or "none".
func volumeReader(vol sdk.CacheVolume, file, nonce string) *sdk.Container {
	return sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithEnv("NONCE", nonce).
		WithExec([]string{"sh", "-c", "cat /data/" + file + " 2>/dev/null || echo none"})
}

// tagDigest is the manifest digest the registry serves for repo:tag, or ""
// when there is none.
func tagDigest(t *testing.T, registry, repo, tag string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, "http://"+registry+"/v2/"+repo+"/manifests/"+tag, nil)
	require.NoError(t, err)
	req.Header.Add("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp.Header.Get("Docker-Content-Digest")
}

func hasWarning(res *Result, part string) bool {
	for _, w := range res.Summary.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func TestCacheVolumeTravelsThroughRegistry(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("travel-" + tag)
	writer, _ := testEngine(t, WithCache(cache))

	res, err := writer.output(t.Context(), volumeWriter(vol, "echo hello > /data/greeting; mkdir -p /data/d; echo deep > /data/d/f; echo gone > /data/old"))
	require.NoError(t, err)
	assert.True(t, hasWarning(res, "holds no save of cache volume"), "first build: %v", res.Summary.Warnings)
	first := tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol))
	require.NotEmpty(t, first, "the volume was saved")

	// Rewriting the same contents is no change: nothing is pushed.
	res, err = writer.output(t.Context(), volumeWriter(vol, "echo hello > /data/greeting; echo again"))
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Warnings)
	assert.Equal(t, first, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "an unchanged volume is not pushed")

	// A change (a new file, a removed one) is a new save.
	_, err = writer.output(t.Context(), volumeWriter(vol, "echo new > /data/new; rm /data/old; echo third"))
	require.NoError(t, err)
	second := tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol))
	assert.NotEqual(t, first, second)

	// A fresh engine sees the files the first one wrote.
	fresh := secondEngine(t, env.Registry, WithCache(cache))
	res, err = fresh.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "cat /data/greeting /data/d/f /data/new; ls /data"}))
	require.NoError(t, err)
	assert.Equal(t, "hello\ndeep\nnew\nd\ngreeting\nnew\n", res.stdout)
	assert.Empty(t, res.Summary.Warnings)
}

func TestCacheVolumeUnreachableRegistryWarnsOnce(t *testing.T) {
	cache := RegistryCache("127.0.0.1:1/lading-test/nowhere:cache")
	e, _ := testEngine(t, WithCache(cache), WithInsecureRegistry("127.0.0.1:1"))
	vol := sdk.CacheVolume("unreachable-" + uniqueTag(t))
	res, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; echo built"))
	require.NoError(t, err, "an unreachable cache never fails a build")
	assert.Equal(t, "built\n", res.stdout)
	var named int
	for _, w := range res.Summary.Warnings {
		if strings.Contains(w, cache.String()) {
			named++
		}
	}
	assert.Equal(t, 1, named, "one warning naming the cache: %v", res.Summary.Warnings)
}

func TestCacheVolumeCorruptSaveStartsCold(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("corrupt-" + tag)
	// A save whose layer is not a tar archive.
	pushImage(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol), []byte("this is not a gzip stream"))

	fresh := secondEngine(t, env.Registry, WithCache(cache))
	res, err := fresh.output(t.Context(), volumeReader(vol, "x", tag))
	require.NoError(t, err, "a corrupt cache never fails a build")
	assert.Equal(t, "none\n", res.stdout)
	require.Len(t, res.Summary.Warnings, 1, "%v", res.Summary.Warnings)
	assert.Contains(t, res.Summary.Warnings[0], cache.String())
	assert.Contains(t, res.Summary.Warnings[0], "could not be restored")
}

func TestCacheVolumeCancelledBuildSavesNothing(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("cancel-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	_, err := e.output(ctx, volumeWriter(vol, "echo partial > /data/x; sleep 30"))
	require.Error(t, err)
	assert.Empty(t, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "a cancelled build saves nothing")
}

func TestCacheVolumeConcurrentSaversLastCompleteWins(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("race-" + tag)
	a, _ := testEngine(t, WithCache(cache))
	b := secondEngine(t, env.Registry, WithCache(cache))
	fill := func(letter string) string {
		return "for i in $(seq 1 40); do echo " + letter + " > /data/f$i; done; echo done"
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, e := range []*Engine{a, b} {
		wg.Go(func() { _, errs[i] = e.output(t.Context(), volumeWriter(vol, fill(string(rune('A'+i))))) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	// Read the save through a volume of the same name on a fresh engine.
	fresh := secondEngine(t, env.Registry, WithCache(cache.ReadOnly()))
	res, err := fresh.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "cat /data/f* | sort | uniq -c | tr -s ' '"}))
	require.NoError(t, err)
	assert.Contains(t, []string{" 40 A\n", " 40 B\n"}, res.stdout, "one complete save, not a mix")
}

// pushImage pushes a one-layer image with the given layer bytes, through
// the registry's HTTP API: a test fixture for a corrupt save.
func pushImage(t *testing.T, registry, repo, tag string, layer []byte) {
	t.Helper()
	layerDesc := pushBlob(t, registry, repo, "application/vnd.oci.image.layer.v1.tar+gzip", layer)
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + digest.FromBytes(layer).String() + `"]}}`)
	cfgDesc := pushBlob(t, registry, repo, ocispecs.MediaTypeImageConfig, cfg)
	m, err := json.Marshal(ocispecs.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispecs.MediaTypeImageManifest, Config: cfgDesc, Layers: []ocispecs.Descriptor{layerDesc}})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+registry+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(m))
	require.NoError(t, err)
	req.Header.Set("Content-Type", ocispecs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

func pushBlob(t *testing.T, registry, repo, mediaType string, dt []byte) ocispecs.Descriptor {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+registry+"/v2/"+repo+"/blobs/uploads/", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	if !loc.IsAbs() {
		loc, err = url.Parse("http://" + registry + loc.String())
		require.NoError(t, err)
	}
	d := digest.FromBytes(dt)
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()
	req, err = http.NewRequestWithContext(t.Context(), http.MethodPut, loc.String(), bytes.NewReader(dt))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	return ocispecs.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(dt))}
}

func TestCacheVolumeTravelsThroughLocalDir(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	dir := filepath.Join(t.TempDir(), "cache")
	vol := sdk.CacheVolume("local-" + tag)
	var progress bytes.Buffer
	writer, _ := testEngine(t, WithCache(LocalCache(dir)), WithProgress(ProgressPlain), WithProgressOutput(&progress))
	_, err := writer.output(t.Context(), volumeWriter(vol, "echo hello > /data/greeting; echo built"))
	require.NoError(t, err)
	assert.Contains(t, progress.String(), `saved cache volume "`+string(vol)+`"`)
	link := filepath.Join(dir, "volumes", string(vol))
	first, err := os.Readlink(link)
	require.NoError(t, err, "the save is a link to its layout")

	_, err = writer.output(t.Context(), volumeWriter(vol, "echo hello > /data/greeting; echo same"))
	require.NoError(t, err)
	again, err := os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, first, again, "an unchanged volume is not written")
	assert.Contains(t, progress.String(), `cache volume "`+string(vol)+`" unchanged`)

	_, err = writer.output(t.Context(), volumeWriter(vol, "echo more > /data/more"))
	require.NoError(t, err)
	second, err := os.Readlink(link)
	require.NoError(t, err)
	assert.NotEqual(t, first, second)
	entries, err := os.ReadDir(filepath.Dir(link))
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "no temporary directory is left")
	}

	fresh := secondEngine(t, env.Registry, WithCache(LocalCache(dir)))
	res, err := fresh.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "cat /data/greeting /data/more"}))
	require.NoError(t, err)
	assert.Equal(t, "hello\nmore\n", res.stdout)
	assert.Empty(t, res.Summary.Warnings)

	// A corrupt blob: the next fresh engine warns once and starts cold.
	save, err := readLocalSave(dir, string(vol))
	require.NoError(t, err)
	var m ocispecs.Manifest
	dt, err := os.ReadFile(filepath.Join(save.dir, "blobs", "sha256", save.manifest.Digest.Encoded()))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &m))
	for _, l := range m.Layers {
		require.NoError(t, os.WriteFile(filepath.Join(save.dir, "blobs", "sha256", l.Digest.Encoded()), []byte("garbage"), 0o644))
	}
	cold := secondEngine(t, env.Registry, WithCache(LocalCache(dir).ReadOnly()))
	res, err = cold.output(t.Context(), volumeReader(vol, "greeting", tag))
	require.NoError(t, err, "a corrupt cache never fails a build")
	assert.Equal(t, "none\n", res.stdout)
	require.Len(t, res.Summary.Warnings, 1, "%v", res.Summary.Warnings)
	assert.Contains(t, res.Summary.Warnings[0], "local:"+dir)
}

func TestCacheVolumeOptions(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	e, _ := testEngine(t, WithCache(cache))
	repo := "lading-test/vols"

	local := sdk.CacheVolume("localonly-" + tag)
	res, err := e.output(t.Context(), volumeWriter(local, "echo x > /data/x", sdk.LocalOnly))
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Warnings, "a local-only volume is not looked up")
	assert.Empty(t, tagDigest(t, env.Registry, repo, tag+"-vol-"+string(local)), "a local-only volume is not saved")

	big := sdk.CacheVolume("big-" + tag)
	res, err = e.output(t.Context(), volumeWriter(big, "head -c 2000000 /dev/urandom > /data/blob", sdk.SaveLimit("1MB")))
	require.NoError(t, err)
	assert.True(t, hasWarning(res, "over its save limit of 1.0MiB"), "%v", res.Summary.Warnings)
	assert.True(t, hasWarning(res, "raise sdk.SaveLimit or mark the volume sdk.LocalOnly (first mounted at engine/volume_integration_test.go:"), "%v", res.Summary.Warnings)
	assert.Empty(t, tagDigest(t, env.Registry, repo, tag+"-vol-"+string(big)), "a volume over its limit is not saved")

	ro := sdk.CacheVolume("ro-" + tag)
	roEngine, _ := testEngine(t, WithCache(cache.ReadOnly()))
	_, err = roEngine.output(t.Context(), volumeWriter(ro, "echo x > /data/x"))
	require.NoError(t, err)
	assert.Empty(t, tagDigest(t, env.Registry, repo, tag+"-vol-"+string(ro)), "a read-only cache is not written")
}

func TestCacheVolumeSavesNoSecretOrProxy(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	secret := "SENTINEL-SECRET-" + tag
	proxyPass := "SENTINEL-PROXY-" + tag
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	dir := filepath.Join(t.TempDir(), "cache")
	vol := sdk.CacheVolume("sentinel-" + tag)
	e, _ := testEngine(t, WithCache(cache, LocalCache(dir)))
	tok := sdk.SecretFromValue("tok", secret)
	c := sdk.From("debian:bookworm").
		WithProxy(sdk.Proxy{HTTP: "http://user:" + proxyPass + "@127.0.0.1:9", NoProxy: "*"}).
		WithMountedSecret("/run/secrets/tok", tok).
		WithSecretEnv("TOKEN", tok).
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", `test -n "$TOKEN" && test -n "$HTTP_PROXY" && sha256sum /run/secrets/tok > /dev/null && echo data > /data/file && echo ok > /built`})
	_, err := e.output(t.Context(), c)
	require.NoError(t, err)
	require.NotEmpty(t, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)))

	needles := [][]byte{[]byte(secret), []byte(proxyPass)}
	var blobs int
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		dt, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		blobs++
		assert.False(t, containsAny(t, dt, needles), "%s holds a secret or proxy value", path)
		return nil
	}))
	for _, ref := range []string{tag, tag + "-vol-" + string(vol)} {
		_, body := registryGet(t, env.Registry, "lading-test/vols/manifests/"+ref, ocispecs.MediaTypeImageManifest)
		assert.False(t, containsAny(t, body, needles))
		var m ocispecs.Manifest
		require.NoError(t, json.Unmarshal(body, &m))
		for _, d := range append([]ocispecs.Descriptor{m.Config}, m.Layers...) {
			_, dt := registryGet(t, env.Registry, "lading-test/vols/blobs/"+d.Digest.String())
			blobs++
			assert.False(t, containsAny(t, dt, needles), "blob %s of %s holds a secret or proxy value", d.Digest, ref)
		}
	}
	assert.Greater(t, blobs, 4, "blobs searched")
}

// containsAny says dt, or its gzip-decompressed form, holds a needle.
func containsAny(t *testing.T, dt []byte, needles [][]byte) bool {
	t.Helper()
	hay := [][]byte{dt}
	if zr, err := gzip.NewReader(bytes.NewReader(dt)); err == nil {
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		hay = append(hay, plain)
	}
	for _, h := range hay {
		for _, n := range needles {
			if bytes.Contains(h, n) {
				return true
			}
		}
	}
	return false
}

func TestCacheVolumeCompactsLongHistories(t *testing.T) {
	old := maxVolumeLayers
	maxVolumeLayers = 2
	t.Cleanup(func() { maxVolumeLayers = old })
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("compact-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	var layers []int
	for i, script := range []string{"echo 1 > /data/one", "echo 2 > /data/two", "echo 3 > /data/three; rm /data/one"} {
		_, err := e.output(t.Context(), volumeWriter(vol, script+"; echo "+strconv.Itoa(i)))
		require.NoError(t, err)
		_, body := registryGet(t, env.Registry, "lading-test/vols/manifests/"+tag+"-vol-"+string(vol), ocispecs.MediaTypeImageManifest)
		var m ocispecs.Manifest
		require.NoError(t, json.Unmarshal(body, &m))
		layers = append(layers, len(m.Layers))
	}
	assert.Equal(t, []int{1, 2, 1}, layers, "a layer per change, then one fresh layer")

	fresh := secondEngine(t, env.Registry, WithCache(cache.ReadOnly()))
	res, err := fresh.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "ls /data; cat /data/two /data/three"}))
	require.NoError(t, err)
	assert.Equal(t, "three\ntwo\n2\n3\n", res.stdout)
}

func TestCacheVolumeRestoreKeepsWhatTheEngineHolds(t *testing.T) {
	plain, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	withCache, _ := testEngine(t, WithCache(cache.ReadOnly()))
	vol := sdk.CacheVolume("keep-" + tag)
	// secondEngine clears BUILDKIT_HOST for the rest of the test: the
	// engines of the shared daemon are made before it.
	saver := secondEngine(t, env.Registry, WithCache(cache))
	_, err := saver.output(t.Context(), volumeWriter(vol, "echo saved > /data/f"))
	require.NoError(t, err)

	_, err = plain.output(t.Context(), volumeWriter(vol, "echo here > /data/f"))
	require.NoError(t, err)
	res, err := withCache.output(t.Context(), volumeReader(vol, "f", tag))
	require.NoError(t, err)
	assert.Equal(t, "here\n", res.stdout, "a volume with contents is not overwritten by a save")
}

func TestCacheVolumeWithoutShellStartsCold(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("noshell-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	_, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x"))
	require.NoError(t, err)

	res, err := e.output(t.Context(), ltContainer(t).
		WithMountedCache("/data", vol).
		WithExec([]string{"/bin/lt", "echo", "ran", tag}))
	require.NoError(t, err, "a first step without a shell never fails the build")
	require.Len(t, res.Summary.Warnings, 1, "%v", res.Summary.Warnings)
	assert.Contains(t, res.Summary.Warnings[0], cache.String())
	assert.Contains(t, res.Summary.Warnings[0], "could not be restored")
	assert.Contains(t, res.Summary.Warnings[0], "first mounted at engine/volume_integration_test.go:", "the warning names the step")
	assert.Contains(t, res.Summary.Warnings[0], "mount it first in a step whose image has /bin/sh and cp, or mark it sdk.LocalOnly", "and says how to fix it")
	assert.NotContains(t, res.Summary.Warnings[0], "set -e", "not the whole copy script")
}

func TestLadingCacheEnvironment(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	t.Setenv("LADING_CACHE", "ro:registry:"+env.Registry+"/lading-test/vols:"+tag+"-main,registry:"+env.Registry+"/lading-test/vols:"+tag)
	e, _ := testEngine(t)
	vol := sdk.CacheVolume("env-" + tag)
	res, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x"))
	require.NoError(t, err)
	assert.Len(t, res.Summary.Warnings, 2, "each cache warns that it holds no save yet: %v", res.Summary.Warnings)
	assert.NotEmpty(t, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "saved to the writable cache")
	assert.NotEmpty(t, tagDigest(t, env.Registry, "lading-test/vols", tag), "layers exported to the writable cache")
	assert.Empty(t, tagDigest(t, env.Registry, "lading-test/vols", tag+"-main-vol-"+string(vol)), "the read-only cache is not written")
	assert.Empty(t, tagDigest(t, env.Registry, "lading-test/vols", tag+"-main"), "nor are layers exported to it")
}

func TestCacheVolumeSeveralInOneStep(t *testing.T) {
	// BuildKit leaves cache mount ids out of an exec's cache key: the copy
	// steps of two volumes first used by one step must still differ.
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	e, _ := testEngine(t, WithCache(cache))
	a, b := sdk.CacheVolume("several-a-"+tag), sdk.CacheVolume("several-b-"+tag)
	mount := func(c *sdk.Container) *sdk.Container {
		return c.WithMountedCache("/a", a).WithMountedCache("/b", b)
	}
	_, err := e.output(t.Context(), mount(sdk.From("debian:bookworm")).
		WithExec([]string{"sh", "-c", "echo in-a > /a/f; echo in-b > /b/f; head -c 50000 /dev/urandom > /b/big"}))
	require.NoError(t, err)
	var digests []string
	for _, vol := range []sdk.CacheVolume{a, b} {
		_, body := registryGet(t, env.Registry, "lading-test/vols/manifests/"+tag+"-vol-"+string(vol), ocispecs.MediaTypeImageManifest)
		var m ocispecs.Manifest
		require.NoError(t, json.Unmarshal(body, &m))
		require.Len(t, m.Layers, 1)
		digests = append(digests, m.Layers[0].Digest.String())
	}
	assert.NotEqual(t, digests[0], digests[1], "each volume saves its own contents")

	fresh := secondEngine(t, env.Registry, WithCache(cache.ReadOnly()))
	res, err := fresh.output(t.Context(), mount(sdk.From("debian:bookworm")).
		WithExec([]string{"sh", "-c", "cat /a/f /b/f; ls /a /b"}))
	require.NoError(t, err)
	assert.Equal(t, "in-a\nin-b\n/a:\nf\n\n/b:\nbig\nf\n", res.stdout)
}
