package engine

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// uniqueTag makes a tag no earlier run pushed.
func uniqueTag(t *testing.T) string {
	return fmt.Sprintf("t%d", time.Now().UnixNano())
}

// registryGet fetches path from the test registry's HTTP API.
func registryGet(t *testing.T, registry, path string, accept ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+registry+"/v2/"+path, nil)
	require.NoError(t, err)
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	return resp, body
}

// pushedConfig reads the image config of repo:tag from the registry, and
// the manifest digest the registry serves.
func pushedConfig(t *testing.T, registry, repo, tag string) (string, ocispecs.Image) {
	t.Helper()
	accept := []string{
		ocispecs.MediaTypeImageManifest, ocispecs.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
	}
	resp, body := registryGet(t, registry, repo+"/manifests/"+tag, accept...)
	digest := resp.Header.Get("Docker-Content-Digest")
	var m struct {
		MediaType string                `json:"mediaType"`
		Config    ocispecs.Descriptor   `json:"config"`
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	require.NoError(t, json.Unmarshal(body, &m))
	if len(m.Manifests) > 0 {
		_, body = registryGet(t, registry, repo+"/manifests/"+m.Manifests[0].Digest.String(), accept...)
		require.NoError(t, json.Unmarshal(body, &m))
	}
	_, cfg := registryGet(t, registry, repo+"/blobs/"+m.Config.Digest.String())
	var img ocispecs.Image
	require.NoError(t, json.Unmarshal(cfg, &img))
	return digest, img
}

func TestPublishAppliesImageConfig(t *testing.T) {
	e, env := testEngine(t)
	c := ltContainer(t).
		WithNewFile("/etc/greeting", "hello").
		WithEnv("GREETING", "hello").
		WithWorkdir("/work").
		WithUser("10001").
		WithEntrypoint("/bin/lt", "echo").
		WithDefaultArgs("hi").
		WithLabel("org.example.test", "publish").
		WithExposedPort(8080)
	repo := "lading-test/publish"
	tag := uniqueTag(t)
	ref := env.Registry + "/" + repo + ":" + tag
	dgst, err := e.Publish(t.Context(), c, ref, "also-"+tag)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(dgst, "sha256:"), dgst)

	served, img := pushedConfig(t, env.Registry, repo, tag)
	assert.Equal(t, dgst, served, "the returned digest is what the registry serves")
	assert.Contains(t, img.Config.Env, "GREETING=hello")
	assert.Equal(t, "/work", img.Config.WorkingDir)
	assert.Equal(t, "10001", img.Config.User)
	assert.Equal(t, []string{"/bin/lt", "echo"}, img.Config.Entrypoint)
	assert.Equal(t, []string{"hi"}, img.Config.Cmd)
	assert.Equal(t, "publish", img.Config.Labels["org.example.test"])
	assert.Contains(t, img.Config.ExposedPorts, "8080/tcp")
	assert.Equal(t, "linux", img.OS)
	assert.NotEmpty(t, img.RootFS.DiffIDs)

	served2, _ := pushedConfig(t, env.Registry, repo, "also-"+tag)
	assert.Equal(t, dgst, served2, "the extra tag names the same manifest")
}

func TestPublishInheritsBaseImageConfig(t *testing.T) {
	e, env := testEngine(t)
	c := sdk.From("debian:bookworm").WithEnv("LADING_TEST", "1").
		WithExec([]string{"sh", "-c", "echo built > /built"})
	repo := "lading-test/base"
	tag := uniqueTag(t)
	_, err := e.Publish(t.Context(), c, env.Registry+"/"+repo+":"+tag)
	require.NoError(t, err)
	_, img := pushedConfig(t, env.Registry, repo, tag)
	assert.Contains(t, img.Config.Env, "LADING_TEST=1")
	var path string
	for _, kv := range img.Config.Env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv
		}
	}
	assert.NotEmpty(t, path, "PATH comes from the base image's config: %v", img.Config.Env)
}

func TestPublishRefusesUntaggedRef(t *testing.T) {
	e, env := testEngine(t)
	for _, ref := range []string{env.Registry + "/app", "app", ""} {
		_, err := e.Publish(t.Context(), ltContainer(t), ref)
		require.Error(t, err, ref)
	}
	_, err := e.Publish(t.Context(), ltContainer(t), env.Registry+"/app")
	require.ErrorContains(t, err, "no tag")
	assert.ErrorContains(t, err, "latest")
}

// tarEntries lists a tarball's files and reads the named ones.
func tarEntries(t *testing.T, path string, read ...string) (names []string, files map[string][]byte) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	files = map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		for _, r := range read {
			if h.Name == r {
				files[r], err = io.ReadAll(tr)
				require.NoError(t, err)
			}
		}
	}
	return names, files
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestTarballOutputs(t *testing.T) {
	e, _ := testEngine(t)
	dir := t.TempDir()
	c := ltContainer(t).WithNewFile("/hello", "hi").WithEntrypoint("/bin/lt")
	oci := filepath.Join(dir, "image.oci.tar")
	docker := filepath.Join(dir, "image.docker.tar")
	res, err := e.Build(t.Context(), c, OCITarball(oci, "example.com/app:1.0"), DockerTarball(docker, "app:1.0", "app:latest"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.Digest, "sha256:"), res.Digest)
	assert.ElementsMatch(t, []string{"image.oci.tar", "image.docker.tar"}, dirNames(t, dir), "no temporary files left")

	names, files := tarEntries(t, oci, "index.json")
	assert.Contains(t, names, "oci-layout")
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(files["index.json"], &idx))
	require.NotEmpty(t, idx.Manifests)
	assert.Equal(t, res.Digest, idx.Manifests[0].Digest.String())

	_, files = tarEntries(t, docker, "manifest.json")
	var dm []struct{ RepoTags []string }
	require.NoError(t, json.Unmarshal(files["manifest.json"], &dm))
	require.Len(t, dm, 1)
	assert.ElementsMatch(t, []string{"app:1.0", "app:latest"}, dm[0].RepoTags)

	// An independent reader agrees: skopeo (installed by the test
	// environment) inspects both archives.
	for _, archive := range []string{"oci-archive:" + oci, "docker-archive:" + docker} {
		out, err := exec.CommandContext(t.Context(), "skopeo", "inspect", "--config", archive).Output()
		require.NoError(t, err, "skopeo inspect %s", archive)
		var img ocispecs.Image
		require.NoError(t, json.Unmarshal(out, &img))
		assert.Equal(t, []string{"/bin/lt"}, img.Config.Entrypoint, archive)
		assert.Equal(t, "linux", img.OS, archive)
		out, err = exec.CommandContext(t.Context(), "skopeo", "inspect", archive).Output()
		require.NoError(t, err)
		var info struct{ Layers []string }
		require.NoError(t, json.Unmarshal(out, &info))
		assert.NotEmpty(t, info.Layers, archive)
	}
}

func TestTarballOutputIsAtomic(t *testing.T) {
	e, _ := testEngine(t)

	t.Run("failed build", func(t *testing.T) {
		dir := t.TempDir()
		c := ltContainer(t).WithExec([]string{"/bin/lt", "exit", "1", uniqueTag(t)})
		_, err := e.Build(t.Context(), c, OCITarball(filepath.Join(dir, "image.tar")))
		require.Error(t, err)
		assert.Empty(t, dirNames(t, dir))
	})
	t.Run("cancelled build", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		c := ltContainer(t).WithExec([]string{"/bin/lt", "sleep", "20", uniqueTag(t)})
		_, err := e.Build(ctx, c, DockerTarball(filepath.Join(dir, "image.tar"), "app:1"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Empty(t, dirNames(t, dir))
	})
	t.Run("existing file replaced only on success", func(t *testing.T) {
		dir := t.TempDir()
		dest := filepath.Join(dir, "image.tar")
		require.NoError(t, os.WriteFile(dest, []byte("old"), 0o644))
		_, err := e.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "exit", "2", uniqueTag(t)}), OCITarball(dest))
		require.Error(t, err)
		dt, err := os.ReadFile(dest)
		require.NoError(t, err)
		assert.Equal(t, "old", string(dt))
		_, err = e.Build(t.Context(), ltContainer(t), OCITarball(dest))
		require.NoError(t, err)
		names, _ := tarEntries(t, dest)
		assert.Contains(t, names, "index.json")
		assert.Equal(t, []string{"image.tar"}, dirNames(t, dir))
	})
}

func TestLocalPathOutputs(t *testing.T) {
	e, _ := testEngine(t)
	dir := t.TempDir()
	c := ltContainer(t).
		WithNewDirectory("/out").
		WithExec([]string{"/bin/lt", "write", "/out/a.txt", "A"}).
		WithExec([]string{"/bin/lt", "write", "/out/b.txt", "B"})

	outDir := filepath.Join(dir, "out")
	require.NoError(t, os.MkdirAll(outDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outDir, "stale"), nil, 0o644))
	require.NoError(t, e.Export(t.Context(), c.Directory("/out"), outDir))
	assert.ElementsMatch(t, []string{"a.txt", "b.txt"}, dirNames(t, outDir), "the directory is replaced")

	file := filepath.Join(dir, "sub", "b.txt")
	require.NoError(t, e.Export(t.Context(), c.File("/out/b.txt"), file))
	dt, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "B", string(dt))
	assert.Equal(t, []string{"b.txt"}, dirNames(t, filepath.Join(dir, "sub")))
	assert.ElementsMatch(t, []string{"out", "sub"}, dirNames(t, dir))
}

func TestPublishMultiPlatform(t *testing.T) {
	e, env := testEngine(t)
	multi := e.With(WithPlatforms("linux/amd64", "linux/arm64"))
	c := sdk.Scratch().WithNewFile("/etc/app.conf", "x=1").WithEntrypoint("/app")
	repo := "lading-test/multi"
	tag := uniqueTag(t)
	dgst, err := multi.Publish(t.Context(), c, env.Registry+"/"+repo+":"+tag)
	require.NoError(t, err)

	resp, body := registryGet(t, env.Registry, repo+"/manifests/"+tag, ocispecs.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json")
	assert.Equal(t, dgst, resp.Header.Get("Docker-Content-Digest"))
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(body, &idx))
	var got []string
	var attestations int
	for _, m := range idx.Manifests {
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attestations++ // one per platform: see attest_integration_test.go
			continue
		}
		if m.Platform != nil {
			got = append(got, m.Platform.OS+"/"+m.Platform.Architecture)
		}
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, got)
	assert.Equal(t, 2, attestations, "each platform has its provenance")
	_, img := pushedConfig(t, env.Registry, repo, tag)
	assert.Equal(t, []string{"/app"}, img.Config.Entrypoint)

	_, err = e.With(WithPlatforms("linux/amd64", "linux/arm64")).Stdout(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "echo"}))
	require.ErrorContains(t, err, "single platform")
	_, err = e.With(WithPlatforms("not a platform!")).Build(t.Context(), c)
	assert.ErrorContains(t, err, "platform")
}
