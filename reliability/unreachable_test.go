package reliability

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
)

// silentListener accepts connections and never answers: an engine that
// hangs, or the wrong service on the port.
func silentListener(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln
}

// TestUnreachableEngines adds to engine.TestErrNoEngineIsFast (missing
// socket, closed port, BUILDKIT_HOST to a missing socket) the engines that
// are there but do not answer as BuildKit: a socket whose server never
// answers, a TCP port that accepts and hangs, an HTTP server, a plain
// file where the socket should be. Each gives ErrNoEngine within 5 s,
// naming the address and the ways to get an engine. TLS mismatches are in
// TestMutualTLSOnLoopback.
func TestUnreachableEngines(t *testing.T) {
	dir, err := os.MkdirTemp("", "ldr-un-") //nolint:usetesting // unix socket paths must be short (108 bytes)
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	hungUnix := filepath.Join(dir, "hung.sock")
	silentListener(t, "unix", hungUnix)
	hungTCP := silentListener(t, "tcp", "127.0.0.1:0")
	web := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(web.Close)
	file := filepath.Join(dir, "file.sock")
	require.NoError(t, os.WriteFile(file, []byte("not a socket"), 0o644))

	for _, tc := range []struct{ name, addr string }{
		{"unix socket that never answers", "unix://" + hungUnix},
		{"tcp port that accepts and hangs", "tcp://" + hungTCP.Addr().String()},
		{"an HTTP server", "tcp://" + web.Listener.Addr().String()},
		{"a file instead of a socket", "unix://" + file},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			e, err := engine.Connect(t.Context(), engine.Silent(), engine.WithAddress(tc.addr))
			took := time.Since(t0)
			if err == nil {
				e.Close()
			}
			require.Error(t, err)
			t.Logf("after %s: %s", took, firstLine(err))
			require.ErrorIs(t, err, engine.ErrNoEngine)
			assert.Less(t, took, 5*time.Second)
			assert.Contains(t, err.Error(), tc.addr)
			assert.Contains(t, err.Error(), "lading engine start")
			assert.Contains(t, err.Error(), "BUILDKIT_HOST")
			lines := strings.Split(err.Error(), "\n")
			require.GreaterOrEqual(t, len(lines), 2)
			assert.Contains(t, lines[1], "was given with engine.WithAddress", "the first hint is to fix the address given")
		})
	}
}
