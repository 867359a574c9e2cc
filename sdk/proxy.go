package sdk

import (
	"os"

	"github.com/ladingbuild/lading/internal/llb"
)

// Proxy holds the proxy settings of the network builds run in, and the CA
// bundle that network's TLS-inspecting proxy needs trusted. Exec steps see
// them as HTTP_PROXY, HTTPS_PROXY, NO_PROXY, ALL_PROXY (both cases) and a
// mounted CA bundle with SSL_CERT_FILE and friends; they are never written
// into the image config, its history, or the cache key, so changing a proxy
// does not rebuild anything.
type Proxy struct {
	HTTP    string // HTTP_PROXY
	HTTPS   string // HTTPS_PROXY
	FTP     string // FTP_PROXY
	NoProxy string // NO_PROXY
	All     string // ALL_PROXY
	// CABundle is a PEM file on the host with the certificates exec steps
	// must trust, e.g. /etc/ssl/certs/ca-certificates.crt. It is mounted
	// read-only at /run/lading/ca-certificates.crt, with SSL_CERT_FILE,
	// CURL_CA_BUNDLE and other tools' variables pointing at it; the
	// image's own bundle is left alone for its package manager.
	CABundle string
}

// ProxyFromEnv reads the proxy settings of the machine running the
// program: HTTP_PROXY, HTTPS_PROXY, FTP_PROXY, NO_PROXY, ALL_PROXY (upper or
// lower case) and, for the CA bundle, LADING_CA_BUNDLE, else SSL_CERT_FILE
// when a proxy is set.
func ProxyFromEnv() Proxy {
	get := func(name, lower string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return os.Getenv(lower)
	}
	p := Proxy{
		HTTP:    get("HTTP_PROXY", "http_proxy"),
		HTTPS:   get("HTTPS_PROXY", "https_proxy"),
		FTP:     get("FTP_PROXY", "ftp_proxy"),
		NoProxy: get("NO_PROXY", "no_proxy"),
		All:     get("ALL_PROXY", "all_proxy"),
	}
	p.CABundle = os.Getenv("LADING_CA_BUNDLE")
	if p.CABundle == "" && (p.HTTP != "" || p.HTTPS != "" || p.FTP != "" || p.All != "") {
		// SSL_CERT_FILE is often set for other reasons: it only stands for
		// the proxy's CA when there is a proxy, so that a machine without one
		// builds the same steps as any other.
		p.CABundle = os.Getenv("SSL_CERT_FILE")
	}
	return p
}

// WithProxy sets the proxy settings later exec steps see. An empty Proxy
// clears them.
func (c *Container) WithProxy(p Proxy) *Container {
	loc := caller()
	return c.with(loc, "WithProxy", func(m *llb.Container) error {
		if p == (Proxy{}) {
			m.Proxy = nil
			return nil
		}
		if err := checkText(loc, "WithProxy", "proxy", p.HTTP, p.HTTPS, p.FTP, p.NoProxy, p.All, p.CABundle); err != nil {
			return err
		}
		if p.CABundle != "" {
			if _, err := os.Stat(p.CABundle); err != nil {
				return llb.Invalid(loc, "WithProxy", "CABundle", llb.Shorten(err.Error()), "point CABundle at a readable PEM file, or leave it empty")
			}
		}
		px := llb.Proxy(p)
		m.Proxy = &px
		return nil
	})
}

// systemCABundles are where Linux distributions keep the CA bundle.
var systemCABundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",             // openSUSE
}

// SystemCABundle returns the path of this machine's CA bundle, or "" when
// it has none at a usual place. Behind a TLS-inspecting proxy the machine's
// bundle trusts the proxy; set it as Proxy.CABundle so exec steps do too.
func SystemCABundle() string {
	for _, p := range systemCABundles {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
