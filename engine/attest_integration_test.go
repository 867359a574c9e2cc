package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/inspect"
	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// Sentinels that must never appear in an attestation.
const (
	sentinelSecretEnv   = "attest-SENTINEL-env-secret-7f3a"
	sentinelSecretValue = "attest-SENTINEL-value-secret-91c2"
	sentinelProxyPass   = "attestSENTINELproxypw55"
	sentinelCA          = "attest-SENTINEL-ca-bundle-0d1e"
)

// sentinelContainer uses a secret from the env, a secret value, a proxy
// whose URL carries a password, and a CA bundle, in one exec step on the
// debian:bookworm-slim stand-in.
func sentinelContainer(t *testing.T, withProxy bool) *sdk.Container {
	t.Helper()
	t.Setenv("LADING_TEST_ATTEST_SECRET", sentinelSecretEnv)
	c := sdk.From("debian:bookworm-slim").
		WithDirectory("/opt/lt", sdk.Host(ltTool(t))).
		WithSecretEnv("TOKEN", sdk.SecretFromEnv("LADING_TEST_ATTEST_SECRET")).
		WithMountedSecret("/run/secrets/key", sdk.SecretFromValue("key", sentinelSecretValue))
	if withProxy {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, []byte("# "+sentinelCA+"\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644))
		proxy := "http://user:" + sentinelProxyPass + "@127.0.0.1:9"
		c = c.WithProxy(sdk.Proxy{HTTP: proxy, HTTPS: proxy, All: proxy, NoProxy: "localhost", CABundle: ca})
	}
	return c.WithExec([]string{"/opt/lt/lt", "write", "/built", uniqueTag(t)}).
		WithEntrypoint("/opt/lt/lt")
}

// assertNoSentinel searches every attestation statement of every platform.
func assertNoSentinel(t *testing.T, img *inspect.Image) {
	t.Helper()
	require.NotEmpty(t, img.Platforms)
	for _, p := range img.Platforms {
		require.NotEmpty(t, p.Attestations, "platform %s carries attestations", p.Platform)
		for _, a := range p.Attestations {
			for _, s := range []string{sentinelSecretEnv, sentinelSecretValue, sentinelProxyPass, sentinelCA, "BEGIN CERTIFICATE"} {
				assert.False(t, bytes.Contains(a.Statement, []byte(s)), "%s attestation holds %q", a.PredicateType, s)
			}
		}
	}
}

// Every build that reads secrets and sets a proxy with a password and a
// CA bundle gets provenance that names its base image by digest and its
// host directory by content, and no attestation holds a secret value, the
// proxy's password or the CA bundle, in min and max mode, pushed or
// written as an OCI tarball.
func TestAttestationsHoldNoSecrets(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      Provenance
		proxy     bool
		wantGraph bool // max provenance kept (the build graph is recorded)
	}{
		{"min with proxy", ProvenanceMin, true, false},
		{"max with proxy becomes min", ProvenanceMax, true, false},
		{"max with secrets only", ProvenanceMax, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, env := testEngine(t, WithProvenance(tc.mode))
			ref := env.Registry + "/lading-test/attest-sentinel:" + uniqueTag(t)
			tar := filepath.Join(t.TempDir(), "image.tar")
			res, err := e.Build(t.Context(), sentinelContainer(t, tc.proxy), Registry(ref), OCITarball(tar))
			require.NoError(t, err)
			if tc.mode == ProvenanceMax && tc.proxy {
				if assert.Len(t, res.Summary.Warnings, 1) {
					assert.Contains(t, res.Summary.Warnings[0], "provenance is min, not max")
				}
			}
			for _, target := range []string{ref, tar} {
				img, err := inspect.Read(t.Context(), target)
				require.NoError(t, err)
				assertNoSentinel(t, img)
				require.Len(t, img.Platforms, 1)
				p := img.Platforms[0]
				require.NotNil(t, p.Provenance, "%s has provenance", target)
				assert.Equal(t, inspect.PredicateSLSA1, p.Provenance.PredicateType)
				assert.Equal(t, tc.wantGraph, p.Provenance.HasBuildConfig)
				require.Len(t, p.Provenance.Materials, 1)
				assert.Contains(t, p.Provenance.Materials[0].URI, "pkg:docker/debian@bookworm-slim")
				assert.Len(t, p.Provenance.Materials[0].Digest["sha256"], 64, "base image named by digest")
				require.Len(t, p.Provenance.Locals, 1)
				want, err := localDigest(t.Context(), lllbLocal(ltTool(t)))
				require.NoError(t, err)
				assert.Equal(t, want, p.Provenance.Locals[0].Digest, "host directory named by content")
			}
		})
	}
}

// The attestations are off on request, and a Docker tarball never gets
// any (BuildKit's docker exporter cannot hold them): the build says so.
func TestAttestationsOff(t *testing.T) {
	e, env := testEngine(t, WithProvenance(ProvenanceOff))
	ref := env.Registry + "/lading-test/attest-off:" + uniqueTag(t)
	c := ltContainer(t).WithNewFile("/x", uniqueTag(t))
	_, err := e.Publish(t.Context(), c, ref)
	require.NoError(t, err)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	require.Len(t, img.Platforms, 1)
	assert.Empty(t, img.Platforms[0].Attestations)
	assert.Nil(t, img.Platforms[0].Provenance)

	t.Setenv("LADING_PROVENANCE", "off")
	on, _ := testEngine(t)
	img2Ref := env.Registry + "/lading-test/attest-off:" + uniqueTag(t)
	_, err = on.Publish(t.Context(), c, img2Ref)
	require.NoError(t, err)
	img, err = inspect.Read(t.Context(), img2Ref)
	require.NoError(t, err)
	assert.Empty(t, img.Platforms[0].Attestations, "LADING_PROVENANCE=off")

	t.Setenv("LADING_PROVENANCE", "")
	dir := t.TempDir()
	res, err := on.Build(t.Context(), c, OCITarball(filepath.Join(dir, "a.tar")), DockerTarball(filepath.Join(dir, "b.tar")))
	require.NoError(t, err)
	require.Len(t, res.Summary.Warnings, 1)
	assert.Contains(t, res.Summary.Warnings[0], "a Docker tarball or DockerLoad/PodmanLoad cannot hold them")
}

// lllbLocal is the host directory sdk.Host(path) sends, with no patterns.
func lllbLocal(path string) lllb.LocalDir { return lllb.LocalDir{Path: path} }

// Each platform of a multi-platform image has its own provenance, with
// the host directory named by content.
func TestMultiPlatformProvenance(t *testing.T) {
	e, env := testEngine(t, WithPlatforms("linux/amd64", "linux/arm64"))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "conf"), []byte(uniqueTag(t)), 0o644))
	ref := env.Registry + "/lading-test/attest-multi:" + uniqueTag(t)
	_, err := e.Publish(t.Context(), sdk.Scratch().WithDirectory("/etc/app", sdk.Host(dir)), ref)
	require.NoError(t, err)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	want, err := localDigest(t.Context(), lllbLocal(dir))
	require.NoError(t, err)
	var platforms []string
	for _, p := range img.Platforms {
		platforms = append(platforms, p.Platform)
		require.NotNil(t, p.Provenance, p.Platform)
		require.Len(t, p.Provenance.Locals, 1, p.Platform)
		assert.Equal(t, want, p.Provenance.Locals[0].Digest, p.Platform)
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, platforms)
}

// A skipped build returns the previous result: other attestation settings
// make another result, so the build is not skipped.
func TestSkipSeesTheAttestationSettings(t *testing.T) {
	_, env := testEngine(t)
	out := Registry(env.Registry + "/lading-test/attest-skip:" + uniqueTag(t))
	c := sdk.Scratch().WithNewFile("/x", uniqueTag(t))
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("attest-skip"), WithSkipUnchanged())
	_, err := eng.Build(t.Context(), c, out)
	require.NoError(t, err)
	assert.NotContains(t, skipReason(t, eng, c, out), "the image config, the epoch or the export settings changed", "the same settings")
	off := eng.With(WithProvenance(ProvenanceOff))
	assert.Contains(t, skipReason(t, off, c, out), "the image config, the epoch or the export settings changed")
	res, err := off.Build(t.Context(), c, out)
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Skipped)
}
