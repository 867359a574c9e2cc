package inspect

import (
	"archive/tar"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statementJSON is an in-toto statement with predicate p.
func statementJSON(t *testing.T, pt string, p any) []byte {
	t.Helper()
	dt, err := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1", "predicateType": pt, "subject": []any{}, "predicate": p})
	require.NoError(t, err)
	return dt
}

// ociTarball writes an OCI layout archive holding an index with one
// linux/amd64 image and an attestation manifest for it with the given
// statements, the way BuildKit lays them out.
func ociTarball(t *testing.T, statements ...[]byte) (path string, image v1.Hash) {
	t.Helper()
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf.Config.User = "10001"
	cf.Config.Entrypoint = []string{"/app"}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	image, err = img.Digest()
	require.NoError(t, err)

	att := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	for _, st := range statements {
		var s statement
		require.NoError(t, json.Unmarshal(st, &s))
		att, err = mutate.Append(att, mutate.Addendum{
			Layer:       static.NewLayer(st, "application/vnd.in-toto+json"),
			Annotations: map[string]string{predicateAnnotation: s.PredicateType},
		})
		require.NoError(t, err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{refTypeAnnotation: attestationManifest, refDigestAnnotation: image.String()},
		}})
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	require.NoError(t, lp.AppendIndex(idx))
	path = filepath.Join(t.TempDir(), "image.tar")
	writeTar(t, dir, path)
	return path, image
}

func writeTar(t *testing.T, dir, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	tw := tar.NewWriter(f)
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(dt)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(dt)
		return err
	}))
	require.NoError(t, tw.Close())
}

func TestOCITarballAttestations(t *testing.T) {
	t.Parallel()
	prov := statementJSON(t, PredicateSLSA1, map[string]any{
		"buildDefinition": map[string]any{
			"buildType":            "https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md",
			"externalParameters":   map[string]any{"request": map[string]any{"locals": []any{map[string]any{"name": "host-1"}}}},
			"resolvedDependencies": []any{map[string]any{"uri": "pkg:docker/debian@bookworm-slim?platform=linux%2Famd64", "digest": map[string]string{"sha256": "55f0"}}},
		},
		"runDetails": map[string]any{"metadata": map[string]any{"invocationID": "abc", "startedOn": "2026-12-01T11:04:05Z"}},
	})
	hosts := statementJSON(t, PredicateHostDirectories, map[string]any{"directories": []any{map[string]any{"name": "host-1", "digest": "sha256:2548"}}})
	sbom := statementJSON(t, PredicateSPDX, map[string]any{
		"spdxVersion": "SPDX-2.3", "name": "sbom",
		"packages": []any{
			map[string]any{"name": "bash", "versionInfo": "5.2.15-2+b7", "externalRefs": []any{map[string]any{"referenceType": "purl", "referenceLocator": "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64"}}},
			map[string]any{"name": "example.com/hello", "versionInfo": "(devel)"},
		},
	})
	path, image := ociTarball(t, prov, hosts, sbom)

	img, err := Read(t.Context(), path)
	require.NoError(t, err)
	assert.Equal(t, string(types.OCIImageIndex), img.MediaType)
	require.Len(t, img.Platforms, 1, "the attestation manifest is not a platform")
	p := img.Platforms[0]
	assert.Equal(t, "linux/amd64", p.Platform)
	assert.Equal(t, image.String(), p.Digest)
	assert.Equal(t, "10001", p.Config.User)
	assert.Equal(t, []string{"/app"}, p.Config.Entrypoint)
	assert.Equal(t, []string{"8080/tcp"}, p.Config.ExposedPorts)
	require.Len(t, p.Attestations, 3)
	require.NotNil(t, p.Provenance)
	assert.Equal(t, []Material{{URI: "pkg:docker/debian@bookworm-slim?platform=linux%2Famd64", Digest: map[string]string{"sha256": "55f0"}}}, p.Provenance.Materials)
	assert.Equal(t, []Local{{Name: "host-1", Digest: "sha256:2548"}}, p.Provenance.Locals, "the host directories statement names the content")
	assert.Equal(t, "abc", p.Provenance.InvocationID)
	assert.False(t, p.Provenance.HasBuildConfig)
	require.NotNil(t, p.SBOM)
	assert.Equal(t, "SPDX-2.3", p.SBOM.SPDXVersion)
	assert.Equal(t, []Package{
		{Name: "bash", Version: "5.2.15-2+b7", PURL: "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64"},
		{Name: "example.com/hello", Version: "(devel)"},
	}, p.SBOM.Packages)
}

func TestOCITarballWithoutAttestations(t *testing.T) {
	t.Parallel()
	path, _ := ociTarball(t)
	img, err := OCITarball(t.Context(), path)
	require.NoError(t, err)
	require.Len(t, img.Platforms, 1)
	assert.Empty(t, img.Platforms[0].Attestations)
	assert.Nil(t, img.Platforms[0].Provenance)
	assert.Nil(t, img.Platforms[0].SBOM)
}

func TestOCITarballErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	evil := filepath.Join(dir, "evil.tar")
	f, err := os.Create(evil)
	require.NoError(t, err)
	tw := tar.NewWriter(f)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "../escape", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg}))
	_, err = tw.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, f.Close())
	_, err = OCITarball(t.Context(), evil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `archive entry "../escape" leaves the archive`)

	notLayout := filepath.Join(dir, "empty.tar")
	writeTar(t, t.TempDir(), notLayout)
	_, err = OCITarball(t.Context(), notLayout)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not an OCI image layout archive")
}
