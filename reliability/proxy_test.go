package reliability

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// TestProxyThroughInspectingProxy runs steps behind a TLS-inspecting proxy
// on loopback that requires user:password@ credentials and re-signs HTTPS
// with its own CA, the way corporate egress proxies do. With the proxy URL
// and the CA bundle given as sdk.Proxy, an HTTPS download from a RUN step
// succeeds; without the bundle it fails on the certificate. Neither the
// credentials, nor the proxy's address, nor the CA bundle end up in the
// published image (manifest, config and history, layers) or in the
// daemon's build history, and changing them leaves every step cached.
func TestProxyThroughInspectingProxy(t *testing.T) {
	since := time.Now()
	e, env := sharedEngine(t)
	const host = "lading-inspected.test" // never resolved: curl sends it to the proxy in CONNECT
	pass := "pr0xy-pw-" + token(t)
	px := startInspectingProxy(t, "builder", pass, host)
	caFile := writeFile(t, t.TempDir(), "proxy-ca.pem", px.CA.PEM)
	proxy := sdk.Proxy{HTTP: px.URL, HTTPS: px.URL, NoProxy: "localhost", CABundle: caFile}

	run := token(t)
	// golang:1.26 carries curl and ca-certificates (hack/README.md).
	base := sdk.From("golang:1.26")
	fetch := func(path string) []string {
		return []string{"sh", "-c", "curl -fsS --max-time 20 https://" + host + "/" + path + " > /fetched && cat /fetched"}
	}
	withCA := base.WithProxy(proxy).WithExec(fetch(run))

	// The step sees the proxy with its credentials, and the CA bundle.
	out, err := e.Stdout(t.Context(), base.WithProxy(proxy).WithExec([]string{"sh", "-c",
		`echo "$HTTPS_PROXY|$https_proxy|$HTTP_PROXY|$SSL_CERT_FILE|$CURL_CA_BUNDLE"; grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE"`}))
	require.NoError(t, err)
	assert.Equal(t, px.URL+"|"+px.URL+"|"+px.URL+"|/run/lading/ca-certificates.crt|/run/lading/ca-certificates.crt\n1\n", out,
		"the step sees user:password@ in the proxy URL and only the given CA bundle")

	// The system bundle stays the image's own: the package manager can
	// rewrite it (update-ca-certificates, run when ca-certificates is
	// installed, failed with "Device or resource busy" on a bundle
	// mounted over it).
	out, err = e.Stdout(t.Context(), base.WithProxy(proxy).WithExec([]string{"sh", "-c",
		`update-ca-certificates --fresh >/dev/null && grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt`}))
	require.NoError(t, err, "update-ca-certificates in a step with a proxy and its CA bundle")
	assert.NotEqual(t, "1\n", out, "the system bundle is the distribution's, not the proxy's CA")

	// Through the inspecting proxy, trusting its CA: the download works.
	ref, repo := imageRef(t, env)
	dgst, err := e.Publish(t.Context(), withCA, ref)
	require.NoError(t, err, "curl through the inspecting proxy with the CA bundle")
	assert.Contains(t, px.Requests(), host+" /"+run, "the proxy decrypted the step's request")
	assert.Zero(t, px.badAuth.Load(), "the step sent the proxy credentials")

	img := pullImage(t, env.Registry, repo, dgst, "library/golang:1.26")
	for what, s := range map[string]string{
		"the proxy password": pass,
		"the proxy address":  px.Addr,
		"the CA bundle":      pemBody(px.CA.PEM),
	} {
		where, found := img.contains(s)
		assert.False(t, found, "%s (%q) is in the image's %s", what, s, where)
	}
	_, found := img.contains("inspected " + host + " /" + run)
	assert.True(t, found, "control: the downloaded file is in the image")
	t.Logf("checked the manifest, the config and %d new layers (%d layers are the base image's)", len(img.Layers), img.BaseLayers)
	// The base image's layers hold these names (Go's crypto/x509 reads
	// SSL_CERT_FILE); the config and the step's own layer must not.
	topLayer := img.Layers[len(img.Layers)-1]
	for _, s := range []string{"_PROXY", "_proxy", "SSL_CERT_FILE", "CURL_CA_BUNDLE"} {
		assert.NotContains(t, string(img.RawConfig), s, "the image config and history")
		assert.NotContains(t, string(topLayer), s, "the step's layer")
	}
	top := tarNames(t, topLayer)
	assert.Contains(t, top, "fetched")
	for _, name := range top {
		assert.NotContains(t, name, "ca-certificates.crt", "the CA mount point is not in the step's layer")
		assert.NotContains(t, name, "run/lading", "the CA mount point is not in the step's layer")
	}

	// Without the bundle the same request fails on the proxy's certificate.
	_, err = e.Build(t.Context(), base.WithProxy(sdk.Proxy{HTTPS: px.URL}).WithExec(fetch(token(t))))
	var xe *engine.ExecError
	require.ErrorAs(t, err, &xe, "curl must fail without the CA bundle")
	assert.Equal(t, 60, xe.ExitCode, "curl's code for an untrusted certificate: %v", xe.Output)
	assert.Contains(t, strings.Join(xe.Output, "\n"), "certificate")
	assert.NotZero(t, px.handshake.Load(), "the client refused the proxy's certificate")
	assert.NotContains(t, err.Error(), pass, "the proxy password is not in the error")

	// Wrong credentials are refused by the proxy: the step really uses them.
	badURL := strings.Replace(px.URL, pass, "wrong", 1)
	_, err = e.Build(t.Context(), base.WithProxy(sdk.Proxy{HTTPS: badURL, CABundle: caFile}).WithExec(fetch(token(t))))
	require.ErrorAs(t, err, &xe)
	assert.NotZero(t, px.badAuth.Load())

	// Another proxy, other credentials, another CA bundle: all cached.
	other := startInspectingProxy(t, "someone", "else-"+token(t), host)
	otherCA := writeFile(t, t.TempDir(), "other-ca.pem", other.CA.PEM)
	res, err := e.Build(t.Context(), base.WithProxy(sdk.Proxy{HTTP: other.URL, HTTPS: other.URL, CABundle: otherCA}).WithExec(fetch(run)))
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Ran, "changing only the proxy and its CA bundle re-runs nothing:\n%s", res.Summary)
	assert.Empty(t, other.Requests())

	// The daemon's build history: nothing of the proxy; a plain build of
	// the same test is there (control).
	visible := "visible-" + token(t)
	plain, err := e.Build(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"echo", visible}))
	require.NoError(t, err)
	assert.Empty(t, historyLeaks(t, env.BuildkitHost, since, pass, px.Addr, pemBody(px.CA.PEM), other.Addr),
		"the daemon's build history holds proxy settings")
	var refs []string
	for _, r := range buildHistory(t, env.BuildkitHost, since) {
		refs = append(refs, r.Ref)
	}
	assert.Contains(t, refs, plain.BuildID, "control: the history scan sees this test's builds")
}
