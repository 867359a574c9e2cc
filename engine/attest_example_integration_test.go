package engine

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/inspect"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// sbomScanner is the test environment's scanner image
// (hack/sbomscanner, pushed by hack/testenv.sh).
func sbomScanner(t *testing.T) string {
	t.Helper()
	s := os.Getenv("LADING_TEST_SBOM_SCANNER")
	if s == "" {
		if testenv.Required() {
			t.Fatal("LADING_TEST_SBOM_SCANNER is not set: eval \"$(hack/testenv.sh env)\"")
		}
		t.Skip("LADING_TEST_SBOM_SCANNER is not set: eval \"$(hack/testenv.sh env)\"")
	}
	return s
}

// readerStatement is one in-toto statement as an independent reader finds
// it: not through package inspect, but the way buildx's imagetools does —
// the index's attestation manifest for the image (by its annotations),
// and its layers by their in-toto.io/predicate-type annotation.
type readerStatement struct {
	predicateType string
	raw           []byte
	statement     *intoto.Statement
}

// independentRead reads ref's linux/amd64 image digest and its
// attestations with go-containerregistry and in-toto-golang.
func independentRead(t *testing.T, ref string) (string, []readerStatement) {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	idx, err := remote.Index(r, remote.WithContext(t.Context()))
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	var image string
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
			image = d.Digest.String()
		}
	}
	require.NotEmpty(t, image, "the index holds a linux/amd64 image")
	var out []readerStatement
	for _, d := range im.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" || d.Annotations["vnd.docker.reference.digest"] != image {
			continue
		}
		am, err := idx.Image(d.Digest)
		require.NoError(t, err)
		m, err := am.Manifest()
		require.NoError(t, err)
		for _, l := range m.Layers {
			out = append(out, readLayerStatement(t, am, l))
		}
	}
	return image, out
}

func readLayerStatement(t *testing.T, am v1.Image, l v1.Descriptor) readerStatement {
	t.Helper()
	layer, err := am.LayerByDigest(l.Digest)
	require.NoError(t, err)
	rc, err := layer.Compressed()
	require.NoError(t, err)
	defer rc.Close()
	dt, err := io.ReadAll(rc)
	require.NoError(t, err)
	s := readerStatement{predicateType: l.Annotations["in-toto.io/predicate-type"], raw: dt, statement: &intoto.Statement{}}
	require.NoError(t, protojson.Unmarshal(dt, s.statement))
	return s
}

// The published examples/multistage image carries SLSA v1 provenance and
// an SPDX SBOM that a reader other than lading's finds: the SBOM lists
// the Debian packages of the base image and the Go module of the binary;
// the provenance names both base images by digest; no attestation holds
// the proxy's password or CA bundle. Two builds with the same epoch push
// the same image (manifest digest) and the same SBOM; the index differs,
// by the provenance's build-specific fields.
func TestExampleImageAttestations(t *testing.T) {
	scanner := sbomScanner(t)
	epoch := time.Unix(1704164645, 0)
	e, env := testEngine(t, WithSBOM(scanner), WithSourceDateEpoch(epoch))
	repo, err := filepath.Abs("../examples/multistage/app")
	require.NoError(t, err)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("# "+sentinelCA+"\n"), 0o644))
	proxy := "http://user:" + sentinelProxyPass + "@127.0.0.1:9"
	app := graph.Image(graph.Build(sdk.Host(repo), sdk.Proxy{HTTP: proxy, HTTPS: proxy, NoProxy: "*", CABundle: ca}), "attest")

	ref1 := env.Registry + "/lading-test/attest-example:" + uniqueTag(t)
	d1, err := e.Publish(t.Context(), app, ref1)
	require.NoError(t, err)
	ref2 := env.Registry + "/lading-test/attest-example:" + uniqueTag(t)
	d2, err := e.Publish(t.Context(), app, ref2)
	require.NoError(t, err)

	image1, st1 := independentRead(t, ref1)
	image2, st2 := independentRead(t, ref2)
	assert.Equal(t, image1, image2, "same program, inputs and epoch: the same image")
	assert.NotEqual(t, d1, d2, "the index differs: the provenance is dated by the build")

	find := func(sts []readerStatement, pt string) readerStatement {
		t.Helper()
		for _, s := range sts {
			if s.predicateType == pt {
				return s
			}
		}
		require.Failf(t, "missing statement", "no %s statement among %d", pt, len(sts))
		return readerStatement{}
	}
	for _, s := range append(st1, st2...) {
		for _, secret := range []string{sentinelProxyPass, sentinelCA} {
			assert.False(t, bytes.Contains(s.raw, []byte(secret)), "%s statement holds %q", s.predicateType, secret)
		}
	}

	sbom1, sbom2 := find(st1, "https://spdx.dev/Document"), find(st2, "https://spdx.dev/Document")
	assert.Equal(t, sbom1.statement.GetPredicate().AsMap(), sbom2.statement.GetPredicate().AsMap(), "the SBOM is dated with the epoch")
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name         string `json:"name"`
			ExternalRefs []struct {
				Type    string `json:"referenceType"`
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	dt, err := json.Marshal(sbom1.statement.GetPredicate().AsMap())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &doc))
	assert.True(t, strings.HasPrefix(doc.SPDXVersion, "SPDX-2"), doc.SPDXVersion)
	var debs, gomods []string
	for _, p := range doc.Packages {
		for _, r := range p.ExternalRefs {
			switch {
			case r.Type == "purl" && strings.HasPrefix(r.Locator, "pkg:deb/debian/"):
				debs = append(debs, p.Name)
			case r.Type == "purl" && strings.HasPrefix(r.Locator, "pkg:golang/"):
				gomods = append(gomods, r.Locator)
			}
		}
	}
	assert.Subset(t, debs, []string{"base-files", "bash", "dpkg", "libc6"}, "the base image's Debian packages")
	assert.Condition(t, func() bool {
		for _, m := range gomods {
			if strings.HasPrefix(m, "pkg:golang/example.com/hello") {
				return true
			}
		}
		return false
	}, "the binary's Go module among %v", gomods)

	prov := find(st1, "https://slsa.dev/provenance/v1")
	assert.Equal(t, "https://slsa.dev/provenance/v1", prov.statement.GetPredicateType())
	var pred struct {
		BuildDefinition struct {
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
	}
	dt, err = json.Marshal(prov.statement.GetPredicate().AsMap())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &pred))
	bases := map[string]string{}
	for _, d := range pred.BuildDefinition.ResolvedDependencies {
		bases[strings.SplitN(d.URI, "?", 2)[0]] = d.Digest["sha256"]
	}
	assert.Len(t, bases["pkg:docker/golang@1.26"], 64, "golang named by digest: %v", bases)
	assert.Len(t, bases["pkg:docker/debian@bookworm-slim"], 64, "debian named by digest: %v", bases)

	buildxAgrees(t, ref1, image1, len(doc.Packages), bases)

	// lading's own reader agrees.
	img, err := inspect.Read(t.Context(), ref1)
	require.NoError(t, err)
	require.Len(t, img.Platforms, 1)
	p := img.Platforms[0]
	assert.Equal(t, image1, p.Digest)
	require.NotNil(t, p.SBOM)
	assert.Len(t, p.SBOM.Packages, len(doc.Packages))
	require.NotNil(t, p.Provenance)
	require.Len(t, p.Provenance.Locals, 1)
	assert.True(t, strings.HasPrefix(p.Provenance.Locals[0].Digest, "sha256:"), "the host directory is named by content")
}

// buildxAgrees reads ref with buildx (`imagetools inspect --format`), the
// reader Docker users have, built by the test environment from its module
// (LADING_TEST_BUILDX): the same base image digests and the same number
// of SBOM packages.
func buildxAgrees(t *testing.T, ref, image string, packages int, bases map[string]string) {
	t.Helper()
	bin := os.Getenv("LADING_TEST_BUILDX")
	if bin == "" {
		if testenv.Required() {
			t.Fatal("LADING_TEST_BUILDX is not set: eval \"$(hack/testenv.sh env)\"")
		}
		t.Log("LADING_TEST_BUILDX is not set: buildx not consulted")
		return
	}
	read := func(format string, v any) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, "imagetools", "inspect", ref, "--format", format)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
		out, err := cmd.Output()
		require.NoError(t, err, "buildx imagetools inspect --format %s", format)
		require.NoError(t, json.Unmarshal(out, v), "%s", out)
	}
	var prov struct {
		SLSA struct {
			BuildDefinition struct {
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
		}
	}
	read("{{json .Provenance}}", &prov)
	got := map[string]string{}
	for _, d := range prov.SLSA.BuildDefinition.ResolvedDependencies {
		got[strings.SplitN(d.URI, "?", 2)[0]] = d.Digest["sha256"]
	}
	assert.Equal(t, bases, got, "buildx reads the same materials")
	var sbom struct {
		SPDX struct {
			Packages []json.RawMessage `json:"packages"`
		}
	}
	read("{{json .SBOM}}", &sbom)
	assert.Len(t, sbom.SPDX.Packages, packages, "buildx reads the same SBOM")
	var manifest struct {
		Manifests []struct {
			Digest   string
			Platform *struct{ OS, Architecture string }
		}
	}
	read("{{json .Manifest}}", &manifest)
	var found bool
	for _, m := range manifest.Manifests {
		found = found || m.Digest == image
	}
	assert.True(t, found, "buildx lists the image %s", image)
}

// LADING_SBOM=on runs the default scanner, docker/buildkit-syft-scanner
// (the test environment serves its stand-in through the docker.io
// mirror), and the SBOM of an image holding only the lt tool lists the Go
// module lt is built from.
func TestDefaultScannerSBOM(t *testing.T) {
	sbomScanner(t) // the test environment has pushed the scanner images
	t.Setenv("LADING_SBOM", "on")
	e, env := testEngine(t)
	ref := env.Registry + "/lading-test/attest-default-scanner:" + uniqueTag(t)
	_, err := e.Publish(t.Context(), ltContainer(t).WithNewFile("/x", uniqueTag(t)), ref)
	require.NoError(t, err)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	require.Len(t, img.Platforms, 1)
	sb := img.Platforms[0].SBOM
	require.NotNil(t, sb, "an SBOM from %s", DefaultSBOMScanner)
	var purls []string
	for _, p := range sb.Packages {
		purls = append(purls, p.PURL)
	}
	assert.Contains(t, purls, "pkg:golang/github.com/ladingbuild/lading", "lt's module, from its build information")
}
