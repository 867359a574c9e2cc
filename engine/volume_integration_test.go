package engine

import (
	"net/http"
	"strings"
	"testing"

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
