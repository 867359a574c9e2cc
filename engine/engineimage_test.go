package engine

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEngineImage(t *testing.T) {
	t.Parallel()
	d := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		ref, want, pinned string
	}{
		{"moby/buildkit:v0.34.2", "docker.io/moby/buildkit:v0.34.2", ""},
		{"docker.io/moby/buildkit:v0.34.2", "docker.io/moby/buildkit:v0.34.2", ""},
		{"moby/buildkit@" + d, "docker.io/moby/buildkit@" + d, d},
		{"moby/buildkit:v0.34.2@" + d, "docker.io/moby/buildkit@" + d, d},
		{"registry.example.com:5000/tools/buildkit:v0.34.2", "registry.example.com:5000/tools/buildkit:v0.34.2", ""},
		// No tag: the version lading needs, not "latest", which holds
		// another version sooner or later.
		{"registry.example.com:5000/tools/buildkit", "registry.example.com:5000/tools/buildkit:" + buildkitVersion(), ""},
		{"moby/buildkit", "docker.io/moby/buildkit:" + buildkitVersion(), ""},
	} {
		img, err := parseEngineImage(tc.ref, "test")
		require.NoError(t, err, tc.ref)
		assert.Equal(t, tc.want, img.String(), tc.ref)
		assert.Equal(t, tc.pinned, img.pinned, tc.ref)
	}
	for _, bad := range []string{"", " ", "Moby/BuildKit:v1", "moby/buildkit@sha256:abc", "moby/buildkit:v 1"} {
		_, err := parseEngineImage(bad, "LADING_ENGINE_IMAGE")
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "LADING_ENGINE_IMAGE: engine image")
		assert.Contains(t, err.Error(), "moby/buildkit@sha256:<64 hex digits>", "the error shows a good reference")
	}
	_, err := parseEngineImage("Registry.Example.com:5000/Moby/BuildKit:V1", "test")
	assert.ErrorContains(t, err, "a repository name is lowercase: registry.example.com:5000/moby/buildkit", "says what is wrong")
}

func TestWithEngineImageBadReference(t *testing.T) {
	t.Parallel()
	_, err := applyOptions(atStartLocal, []Option{WithEngineImage("moby/buildkit@sha256:abc")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "engine.WithEngineImage: engine image")
	_, err = applyOptions(atWith, []Option{WithEngineImage("moby/buildkit:v0.34.2")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "engine.WithEngineImage has no effect in Engine.With")
}

func TestEngineImageHosts(t *testing.T) {
	t.Parallel()
	s := defaultSettings()
	s.mirrors = map[string][]string{"docker.io": {"mirror.corp:5000", "http://plain.corp/dockerhub/"}}
	s.insecure = []string{"plain.corp", "own.corp:5000"}
	img, err := parseEngineImage("moby/buildkit:v0.34.2", "test")
	require.NoError(t, err)
	var got []string
	for _, h := range engineImageHosts(&s, img) {
		got = append(got, h.label+" -> "+h.repo.Scheme()+"://"+img.in(h.repo).Name())
	}
	assert.Equal(t, []string{
		"mirror.corp:5000 (mirror of docker.io) -> https://mirror.corp:5000/moby/buildkit:v0.34.2",
		"plain.corp/dockerhub (mirror of docker.io) -> http://plain.corp/dockerhub/moby/buildkit:v0.34.2",
		"docker.io -> https://index.docker.io/moby/buildkit:v0.34.2",
	}, got, "the mirrors in order, then the registry itself")

	own, err := parseEngineImage("own.corp:5000/buildkit@sha256:"+strings.Repeat("0", 64), "test")
	require.NoError(t, err)
	hosts := engineImageHosts(&s, own)
	require.Len(t, hosts, 1)
	assert.Equal(t, "own.corp:5000 (no mirror set)", hosts[0].label)
	assert.Equal(t, "http", hosts[0].repo.Scheme(), "an insecure registry is reached over HTTP")
}

func TestUsableCache(t *testing.T) {
	t.Parallel()
	v := buildkitVersion()
	d := "sha256:" + strings.Repeat("1", 64)
	tagged, err := parseEngineImage(defaultEngineImage(), "the default")
	require.NoError(t, err)
	explicitTag := tagged
	explicitTag.explicit = true
	explicitPin, err := parseEngineImage("moby/buildkit@"+d, "test")
	require.NoError(t, err)
	explicitPin.explicit = true
	otherPin, err := parseEngineImage("moby/buildkit@sha256:"+strings.Repeat("2", 64), "test")
	require.NoError(t, err)
	otherPin.explicit = true
	fromImage := &BinarySource{From: BinaryFromImage, Version: v, Image: "docker.io/moby/buildkit:" + v, Digest: d}
	for _, tc := range []struct {
		name  string
		rec   *BinarySource
		img   engineImage
		ok    bool
		stale string
	}{
		{"same image, file truncated", fromImage, explicitTag, false, "changed since lading stored it"},
		{"same image, file replaced", fromImage, explicitTag, false, "changed since lading stored it"},
		{"module build, file truncated", &BinarySource{From: BinaryFromModule, Version: v}, tagged, false, "truncated or replaced"},
		{"no record, default image", nil, tagged, true, ""},
		{"no record, image set", nil, explicitTag, false, "unknown origin"},
		{"other version", &BinarySource{From: BinaryFromModule, Version: "v0.1.0"}, tagged, false, "cached buildkitd v0.1.0"},
		{"module build, default image", &BinarySource{From: BinaryFromModule, Version: v}, tagged, true, ""},
		{"module build, image set", &BinarySource{From: BinaryFromModule, Version: v}, explicitTag, false, "built from the Go module"},
		{"same image", fromImage, explicitTag, true, ""},
		{"pinned digest taken by tag", fromImage, explicitPin, true, ""},
		{"another pinned digest", fromImage, otherPin, false, "from image docker.io/moby/buildkit:" + v},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := localPaths{binary: filepath.Join(t.TempDir(), "buildkitd")}
			require.NoError(t, os.WriteFile(p.binary, []byte("#!/bin/sh\n"), 0o755))
			if tc.rec != nil {
				rec := *tc.rec
				require.NoError(t, writeSource(p.binary, &rec))
			}
			// The binary's content after the record was written.
			if change, ok := map[string]string{
				"same image, file truncated":   "#!/b",
				"same image, file replaced":    "#!/bin/bash\n",
				"module build, file truncated": "",
			}[tc.name]; ok {
				require.NoError(t, os.WriteFile(p.binary, []byte(change), 0o755))
			}
			ok, _, stale := usableCache(p, tc.img)
			assert.Equal(t, tc.ok, ok)
			if tc.stale == "" {
				assert.Empty(t, stale)
			} else {
				assert.Contains(t, stale, tc.stale)
			}
		})
	}
}

// fakeBinary is a script that prints BuildKit's version line for version.
func fakeBinary(name, version string) string {
	return "#!/bin/sh\necho '" + name + " github.com/moby/buildkit " + version + " 0123abcd'\n"
}

// layer is an image layer holding files (path -> content).
func layer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, content := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(content))}))
		_, err := tw.Write([]byte(content))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.Bytes())), nil })
	require.NoError(t, err)
	return l
}

// image is an image for platform with the given layers, bottom first.
func image(t *testing.T, platform string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	p, err := platforms.Parse(platform)
	require.NoError(t, err)
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// testImages is an in-memory registry holding moby/buildkit images whose
// binaries are scripts that print a version line: "index" (an index with
// another platform first, whose binaries are of the wrong version, and the
// host's, whose buildkitd is overridden by a higher layer), and images
// that are wrong in one way each.
// "tampered" is served with another layer's bytes in place of its own.
type testImages struct {
	host         string // host:port of the registry
	index        v1.Hash
	lower        v1.Hash // the host image's lower layer in index, never needed
	good         map[string]string
	hostPlatform string
	other        string    // the other platform
	fetched      *sync.Map // blob digests the registry served
}

func newTestImages(t *testing.T) testImages {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	fetched := &sync.Map{}
	tamper := map[string][]byte{} // written before the server serves pulls
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, dg, ok := strings.Cut(r.URL.Path, "/blobs/"); ok && r.Method == http.MethodGet {
			fetched.Store(dg, true)
			if b, ok := tamper[dg]; ok {
				_, _ = w.Write(b)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	v := buildkitVersion()
	hostPlatform := platforms.Format(platforms.Normalize(platforms.DefaultSpec()))
	otherPlatform := map[bool]string{true: "linux/arm64", false: "linux/amd64"}[strings.HasSuffix(hostPlatform, "amd64")]
	good := map[string]string{"usr/bin/buildkitd": fakeBinary("buildkitd", v), "./usr/bin/buildctl": fakeBinary("buildctl", v)}

	push := func(tag string, img v1.Image) {
		ref, err := name.ParseReference(host + "/moby/buildkit:" + tag)
		require.NoError(t, err)
		require.NoError(t, remote.Write(ref, img))
	}
	lower := layer(t, map[string]string{"usr/bin/buildkitd": fakeBinary("buildkitd", "v0.0.2")}) // overridden above
	lowerDigest, err := lower.Digest()
	require.NoError(t, err)
	// An index with another platform first, whose buildkitd is the wrong
	// version: picking it fails the version check.
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: image(t, otherPlatform, layer(t, map[string]string{
			"usr/bin/buildkitd": fakeBinary("buildkitd", "v0.0.1"), "usr/bin/buildctl": fakeBinary("buildctl", "v0.0.1")})),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: strings.TrimPrefix(otherPlatform, "linux/")}}},
		mutate.IndexAddendum{Add: image(t, hostPlatform, lower, layer(t, good)),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: strings.TrimPrefix(hostPlatform, "linux/")}}},
	)
	ref, err := name.ParseReference(host + "/moby/buildkit:index")
	require.NoError(t, err)
	require.NoError(t, remote.WriteIndex(ref, idx))
	push("whiteout", image(t, hostPlatform, layer(t, good), layer(t, map[string]string{"usr/bin/.wh.buildkitd": ""})))
	push("opaque", image(t, hostPlatform, layer(t, good), layer(t, map[string]string{"usr/bin/.wh..wh..opq": "", "usr/bin/buildctl": fakeBinary("buildctl", v)})))
	push("old", image(t, hostPlatform, layer(t, map[string]string{
		"usr/bin/buildkitd": fakeBinary("buildkitd", "v0.33.1"), "usr/bin/buildctl": fakeBinary("buildctl", "v0.33.1")})))
	push("other-platform", image(t, otherPlatform, layer(t, good)))
	push("no-buildctl", image(t, hostPlatform, layer(t, map[string]string{"usr/bin/buildkitd": fakeBinary("buildkitd", v)})))
	push("not-buildkit", image(t, hostPlatform, layer(t, map[string]string{
		"usr/bin/buildkitd": "#!/bin/sh\necho hello\n", "usr/bin/buildctl": fakeBinary("buildctl", v)})))

	// The registry serves the layer with one byte of its gzip header's
	// MTIME changed: the same size and the same files once decompressed,
	// but another digest, which only the digest check sees.
	real := layer(t, map[string]string{"usr/bin/buildkitd": fakeBinary("buildkitd", v), "usr/bin/buildctl": fakeBinary("buildctl", v), "etc/tampered": "1"})
	push("tampered", image(t, hostPlatform, real))
	realDigest, err := real.Digest()
	require.NoError(t, err)
	rc, err := real.Compressed()
	require.NoError(t, err)
	bad, err := io.ReadAll(rc)
	require.NoError(t, err)
	bad[4] ^= 0xff
	tamper[realDigest.String()] = bad

	d, err := idx.Digest()
	require.NoError(t, err)
	return testImages{host: host, index: d, lower: lowerDigest, good: good, hostPlatform: hostPlatform, other: otherPlatform, fetched: fetched}
}

// TestPullEngineBinaries pulls from an in-memory registry: it takes the
// host's platform from an index, the highest layer's copy of a file,
// honours whiteouts, and checks the version each binary reports.
func TestPullEngineBinaries(t *testing.T) {
	t.Parallel()
	ti := newTestImages(t)
	host, v, hostPlatform, otherPlatform, good := ti.host, buildkitVersion(), ti.hostPlatform, ti.other, ti.good
	for _, tc := range []struct {
		tag, want string
	}{
		{"index", ""},
		{"whiteout", "the image has no /usr/bin/buildkitd"},
		{"opaque", "the image has no /usr/bin/buildkitd"},
		{"old", "its /usr/bin/buildkitd reports version v0.33.1, and lading needs " + v},
		{"other-platform", "the image is for " + otherPlatform},
		{"no-buildctl", "the image has no /usr/bin/buildctl"},
		{"not-buildkit", "not BuildKit's version line"},
		{"tampered", "layer 1: error verifying sha256 checksum"},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			s := defaultSettings()
			s.log = nil
			s.dockerConfig = t.TempDir()
			img, err := parseEngineImage(host+"/moby/buildkit:"+tc.tag, "test")
			require.NoError(t, err)
			p := localPaths{binary: filepath.Join(t.TempDir(), "bin", "buildkitd")}
			src, err := pullEngineBinaries(t.Context(), &s, img, p)
			if tc.want != "" {
				require.Error(t, err)
				t.Log(err)
				assert.Contains(t, err.Error(), tc.want)
				assert.Contains(t, err.Error(), "engine image "+host+"/moby/buildkit:"+tc.tag+" (test): "+host+" (no mirror set)")
				assert.NoFileExists(t, p.binary)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, hostPlatform, src.Platform)
			assert.Equal(t, v, src.Version)
			assert.Equal(t, host, src.Registry)
			assert.Equal(t, ti.index.String(), src.Digest)
			assert.Equal(t, src, readSource(p.binary))
			got, err := os.ReadFile(p.binary)
			require.NoError(t, err)
			assert.Equal(t, good["usr/bin/buildkitd"], string(got), "the highest layer's copy")
			_, ok := ti.fetched.Load(ti.lower.String())
			assert.False(t, ok, "a layer below the binaries is not downloaded")
			assert.FileExists(t, filepath.Join(filepath.Dir(p.binary), "buildctl"))
		})
	}
}

func TestBinarySourceString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  *BinarySource
		want string
	}{
		{&BinarySource{From: BinaryFromImage, Binary: "/c/bin/buildkitd", Version: "v0.34.2", Image: "docker.io/moby/buildkit:v0.34.2",
			Digest: "sha256:aa", Platform: "linux/amd64", Registry: "127.0.0.1:5000"},
			"/c/bin/buildkitd (buildkitd v0.34.2) from image docker.io/moby/buildkit:v0.34.2@sha256:aa (linux/amd64, via 127.0.0.1:5000)"},
		{&BinarySource{From: BinaryFromImage, Binary: "/c/bin/buildkitd", Version: "v0.34.2", Image: "docker.io/moby/buildkit@sha256:aa",
			Digest: "sha256:aa", Platform: "linux/amd64"},
			"/c/bin/buildkitd (buildkitd v0.34.2) from image docker.io/moby/buildkit@sha256:aa (linux/amd64)"},
		{&BinarySource{From: BinaryFromModule, Binary: "/c/bin/buildkitd", Version: "v0.34.2"},
			"/c/bin/buildkitd (buildkitd v0.34.2) built from the Go module github.com/moby/buildkit@v0.34.2"},
		{&BinarySource{From: BinaryFromPath, Binary: "/usr/bin/buildkitd"}, "/usr/bin/buildkitd (found on PATH)"},
		{nil, "unknown"},
	} {
		assert.Equal(t, tc.want, tc.src.String())
	}
}

// TestProvideBuildkitdOrder walks provideBuildkitd's order with the
// in-memory registry: buildkitd on PATH wins unless an image is set; an
// image set is pulled once and then served from the cache, also for a pin
// of the digest it resolved to; an image that fails falls back to the
// build, whose error then carries both reasons.
func TestProvideBuildkitdOrder(t *testing.T) {
	ti := newTestImages(t)
	onPath := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(onPath, "buildkitd"), []byte(fakeBinary("buildkitd", "v0.0.9")), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(onPath, "go"), []byte("#!/bin/sh\necho 'fake go: no module proxy' >&2\nexit 1\n"), 0o755))
	t.Setenv("PATH", onPath+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("LADING_ENGINE_IMAGE", "")
	p := localPaths{binary: filepath.Join(t.TempDir(), "bin", "buildkitd")}
	start := func(image string) (string, *BinarySource, string, error) {
		var log logBuffer
		s := defaultSettings()
		s.log, s.dockerConfig, s.engineImage, s.binary = &log, t.TempDir(), image, ""
		bin, src, err := provideBuildkitd(t.Context(), &s, p)
		return bin, src, log.String(), err
	}

	bin, src, _, err := start("")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(onPath, "buildkitd"), bin)
	assert.Equal(t, BinaryFromPath, src.From)

	tagged := ti.host + "/moby/buildkit:index"
	bin, src, log, err := start(tagged)
	require.NoError(t, err)
	assert.Equal(t, p.binary, bin, "an image set: PATH is not used")
	assert.Equal(t, BinaryFromImage, src.From)
	assert.Contains(t, log, "from image "+tagged)

	for _, image := range []string{tagged, ti.host + "/moby/buildkit@" + ti.index.String()} {
		_, src, log, err = start(image)
		require.NoError(t, err)
		assert.Equal(t, ti.index.String(), src.Digest, image)
		assert.Empty(t, log, "%s: served from the cache", image)
	}

	// A cached binary truncated since, with a pin and the registry gone:
	// the error says why lading went to the registry at all.
	saved, err := os.ReadFile(p.binary)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(p.binary, 3))
	_, _, _, err = start(closedAddr(t) + "/moby/buildkit@" + ti.index.String())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the digest is pinned")
	assert.Contains(t, err.Error(), "changed since lading stored it", "why the cache was not used")
	require.NoError(t, os.WriteFile(p.binary, saved, 0o755))

	_, _, log, err = start(ti.host + "/moby/buildkit:old")
	require.Error(t, err)
	assert.Contains(t, log, "reports version v0.33.1")
	assert.Contains(t, log, "replacing the cached buildkitd from")
	assert.Contains(t, log, "building buildkitd "+buildkitVersion()+" from the Go module")
	assert.Contains(t, err.Error(), "fake go: no module proxy")
	assert.Contains(t, err.Error(), "reports version v0.33.1", "the error carries the image's reason too")
	// A mirror that serves the image would not help: the image named is
	// the wrong one, and the error says to name the right one.
	assert.Contains(t, err.Error(), "engine.WithEngineImage names "+ti.host+"/moby/buildkit:old, which a registry serves but which is no BuildKit "+
		buildkitVersion()+" image: set it to a copy of "+defaultEngineImage()+", or unset it")
	assert.Contains(t, log, "set it to a copy of "+defaultEngineImage())
	assert.NotContains(t, err.Error(), "a registry mirror that serves")

	// An image no registry answers for: the way out is a mirror.
	_, _, _, err = start(closedAddr(t) + "/moby/buildkit:" + buildkitVersion())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a registry mirror that serves")
	assert.Contains(t, err.Error(), "engine.WithRegistryMirror or LADING_REGISTRY_MIRROR")
}

// The engine image is pulled with the Docker config's credentials for the
// registry, and they never show in errors, logs or the record.
func TestEngineImageCredentials(t *testing.T) {
	t.Parallel()
	const sentinel = "s3ntinel-pw-7f3a"
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != "ci" || pw != sentinel {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	v := buildkitVersion()
	ref, err := name.ParseReference(host + "/moby/buildkit:" + v)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, image(t, platforms.Format(platforms.Normalize(platforms.DefaultSpec())),
		layer(t, map[string]string{"usr/bin/buildkitd": fakeBinary("buildkitd", v), "usr/bin/buildctl": fakeBinary("buildctl", v)})),
		remote.WithAuth(&authn.Basic{Username: "ci", Password: sentinel})))

	withCreds := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("ci:" + sentinel))
	require.NoError(t, os.WriteFile(filepath.Join(withCreds, "config.json"),
		[]byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600))

	pull := func(t *testing.T, ref, dockerConfig string) (*BinarySource, localPaths, error) {
		s := defaultSettings()
		s.log, s.dockerConfig = nil, dockerConfig
		img, err := parseEngineImage(ref, "test")
		require.NoError(t, err)
		p := localPaths{binary: filepath.Join(t.TempDir(), "bin", "buildkitd")}
		src, err := pullEngineBinaries(t.Context(), &s, img, p)
		return src, p, err
	}
	t.Run("with the Docker config's credentials", func(t *testing.T) {
		t.Parallel()
		src, p, err := pull(t, host+"/moby/buildkit:"+v, withCreds)
		require.NoError(t, err)
		rec, err := os.ReadFile(sourceFile(p.binary))
		require.NoError(t, err)
		assert.NotContains(t, string(rec), sentinel)
		assert.NotContains(t, src.String(), sentinel)
	})
	t.Run("without credentials", func(t *testing.T) {
		t.Parallel()
		_, _, err := pull(t, host+"/moby/buildkit:"+v, t.TempDir())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "UNAUTHORIZED")
	})
	t.Run("a missing tag, with credentials", func(t *testing.T) {
		t.Parallel()
		_, _, err := pull(t, host+"/moby/buildkit:nope", withCreds)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "MANIFEST_UNKNOWN")
		assert.NotContains(t, err.Error(), sentinel)
		assert.NotContains(t, err.Error(), auth)
	})
}
