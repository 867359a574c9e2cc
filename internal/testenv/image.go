package testenv

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ManifestTypes is the Accept header for a single-platform manifest, OCI or
// Docker schema 2.
const ManifestTypes = ocispecs.MediaTypeImageManifest + ", application/vnd.docker.distribution.manifest.v2+json"

// indexTypes is the Accept header for a manifest or an index of them.
const indexTypes = ManifestTypes + ", " + ocispecs.MediaTypeImageIndex + ", application/vnd.docker.distribution.manifest.list.v2+json"

// Image is one platform's image as the test registry serves it.
type Image struct {
	// Manifest and RawManifest are the manifest, decoded and as served.
	Manifest    ocispecs.Manifest
	RawManifest []byte
	// Config and RawConfig are the image config (which holds the image's
	// history), decoded and as served.
	Config    ocispecs.Image
	RawConfig []byte
	// Layers are the layer blobs as stored (usually gzip: see Gunzip),
	// bottom layer first.
	Layers [][]byte
}

// PullImage reads repo:reference (a tag or a digest) back from the
// registry: manifest, config and every layer. When reference names an
// index (an image with attestations, or several platforms) it reads the
// index's linux/amd64 image. It fails the test on any error.
func PullImage(t testing.TB, registry, repo, reference string) Image {
	t.Helper()
	var img Image
	img.RawManifest = RegistryGet(t, registry, "/v2/"+repo+"/manifests/"+reference, indexTypes)
	var idx struct {
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(img.RawManifest, &idx); err != nil {
		t.Fatalf("decoding the manifest of %s:%s: %v", repo, reference, err)
	}
	if len(idx.Manifests) > 0 {
		found := false
		for _, d := range idx.Manifests {
			if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
				img.RawManifest = RegistryGet(t, registry, "/v2/"+repo+"/manifests/"+d.Digest.String(), ManifestTypes)
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("the index %s:%s has no linux/amd64 image", repo, reference)
		}
	}
	if err := json.Unmarshal(img.RawManifest, &img.Manifest); err != nil {
		t.Fatalf("decoding the manifest of %s:%s: %v", repo, reference, err)
	}
	img.RawConfig = RegistryGet(t, registry, "/v2/"+repo+"/blobs/"+img.Manifest.Config.Digest.String(), "")
	if err := json.Unmarshal(img.RawConfig, &img.Config); err != nil {
		t.Fatalf("decoding the config of %s:%s: %v", repo, reference, err)
	}
	for _, l := range img.Manifest.Layers {
		img.Layers = append(img.Layers, RegistryGet(t, registry, "/v2/"+repo+"/blobs/"+l.Digest.String(), ""))
	}
	return img
}

// LayerDigests returns the layer digests of repo:reference, of its
// linux/amd64 image when reference names an index.
func LayerDigests(t testing.TB, registry, repo, reference string) map[string]bool {
	t.Helper()
	var m struct {
		ocispecs.Manifest
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	decode := func(dt []byte) {
		t.Helper()
		if err := json.Unmarshal(dt, &m); err != nil {
			t.Fatalf("decoding the manifest of %s:%s: %v", repo, reference, err)
		}
	}
	decode(RegistryGet(t, registry, "/v2/"+repo+"/manifests/"+reference, indexTypes))
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
			decode(RegistryGet(t, registry, "/v2/"+repo+"/manifests/"+d.Digest.String(), ManifestTypes))
			break
		}
	}
	out := map[string]bool{}
	for _, l := range m.Layers {
		out[l.Digest.String()] = true
	}
	return out
}

// Gunzip decompresses dt, or returns it as it is when it is not gzip.
func Gunzip(t testing.TB, dt []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return dt
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing %d bytes: %v", len(dt), err)
	}
	return out
}
