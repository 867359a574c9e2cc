package sdk_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ladingbuild/lading/sdk"
)

// SSL_CERT_FILE stands for the proxy's CA only when a proxy is set:
// otherwise a machine that happens to set it would build other steps.
func TestProxyFromEnvCABundle(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no proxy, SSL_CERT_FILE ignored", map[string]string{"SSL_CERT_FILE": "/etc/ca.pem"}, ""},
		{"proxy, SSL_CERT_FILE taken", map[string]string{"HTTPS_PROXY": "http://p:3128", "SSL_CERT_FILE": "/etc/ca.pem"}, "/etc/ca.pem"},
		{"lower-case proxy", map[string]string{"http_proxy": "http://p:3128", "SSL_CERT_FILE": "/etc/ca.pem"}, "/etc/ca.pem"},
		{"LADING_CA_BUNDLE always", map[string]string{"LADING_CA_BUNDLE": "/etc/lading.pem", "SSL_CERT_FILE": "/etc/ca.pem"}, "/etc/lading.pem"},
		{"NO_PROXY alone is no proxy", map[string]string{"NO_PROXY": "localhost", "SSL_CERT_FILE": "/etc/ca.pem"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
				"NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "LADING_CA_BUNDLE", "SSL_CERT_FILE"} {
				t.Setenv(k, tc.env[k])
			}
			assert.Equal(t, tc.want, sdk.ProxyFromEnv().CABundle)
		})
	}
}
