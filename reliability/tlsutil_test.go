package reliability

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	PEM  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"lading reliability tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func serial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	require.NoError(t, err)
	return n
}

// issue signs a leaf certificate for the given DNS names and IPs, for
// server or client use, and returns its certificate and key in PEM.
func (ca *testCA) issue(t *testing.T, cn string, client bool, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// writeFile writes dt to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, dt []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, dt, 0o600))
	return p
}

// inspectingProxy is an HTTP proxy on loopback that inspects TLS, as
// corporate egress proxies do: it answers CONNECT (only with the right
// Proxy-Authorization), then terminates TLS itself with a certificate for
// the requested host signed by its own CA, and answers the request it
// decrypted. Nothing leaves the machine.
type inspectingProxy struct {
	URL        string // http://user:password@127.0.0.1:port
	Addr       string // 127.0.0.1:port
	CA         *testCA
	ln         net.Listener
	user, pass string

	mu        sync.Mutex
	certs     map[string]*tls.Certificate
	requests  []string // "host path" of each decrypted request
	badAuth   atomic.Int32
	handshake atomic.Int32 // failed TLS handshakes (the client did not trust the CA)
}

// startInspectingProxy starts the proxy; it inspects TLS to the given
// hosts only.
func startInspectingProxy(t *testing.T, user, pass string, hosts ...string) *inspectingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &inspectingProxy{
		Addr: ln.Addr().String(), CA: newCA(t, "Inspecting Proxy CA"),
		ln: ln, user: user, pass: pass, certs: map[string]*tls.Certificate{},
	}
	p.URL = fmt.Sprintf("http://%s:%s@%s", user, pass, p.Addr)
	for _, h := range hosts {
		certPEM, keyPEM := p.CA.issue(t, h, false, h)
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		require.NoError(t, err)
		p.certs[h] = &c
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(conn)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

// Requests returns the decrypted requests so far.
func (p *inspectingProxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

func (p *inspectingProxy) serve(conn net.Conn) {
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return // the connection is already broken
	}
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
	if req.Header.Get("Proxy-Authorization") != want {
		p.badAuth.Add(1)
		// The answer is best effort: the connection closes either way.
		_, _ = io.WriteString(conn, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	if req.Method != http.MethodConnect {
		_, _ = io.WriteString(conn, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	host, _, err := net.SplitHostPort(req.Host)
	if err != nil {
		host = req.Host
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return // the client went away: no tunnel to serve
	}
	tconn := tls.Server(conn, &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.cert(host) },
	})
	if err := tconn.Handshake(); err != nil {
		p.handshake.Add(1)
		return
	}
	inner, err := http.ReadRequest(bufio.NewReader(tconn))
	if err != nil {
		return
	}
	p.mu.Lock()
	p.requests = append(p.requests, host+" "+inner.URL.Path)
	p.mu.Unlock()
	body := "inspected " + host + " " + inner.URL.Path + "\n"
	fmt.Fprintf(tconn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	tconn.Close()
}

// cert returns the proxy's certificate for host, signed by its CA.
func (p *inspectingProxy) cert(host string) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.certs[host]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("not inspecting %s", host)
}

// pemBody returns the base64 body of a PEM block's first line, a string
// that only occurs where the certificate was copied.
func pemBody(pemData []byte) string {
	lines := strings.Split(string(pemData), "\n")
	return lines[1]
}
