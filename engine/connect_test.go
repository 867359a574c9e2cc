package engine

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrNoEngineIsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := "tcp://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	for _, tc := range []struct {
		name string
		addr string
		env  bool
	}{
		{"missing unix socket", "unix://" + t.TempDir() + "/nope.sock", false},
		{"closed tcp port", closedPort, false},
		{"BUILDKIT_HOST to a missing socket", "unix://" + t.TempDir() + "/env.sock", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []Option{Silent()}
			if tc.env {
				t.Setenv("BUILDKIT_HOST", tc.addr)
			} else {
				opts = append(opts, WithAddress(tc.addr))
			}
			start := time.Now()
			e, err := Connect(t.Context(), opts...)
			elapsed := time.Since(start)
			require.ErrorIs(t, err, ErrNoEngine)
			assert.Nil(t, e)
			assert.Less(t, elapsed, 5*time.Second)
			msg := err.Error()
			assert.Contains(t, msg, tc.addr, "names the address tried")
			assert.Contains(t, msg, "lading engine start")
			assert.Contains(t, msg, "BUILDKIT_HOST")
			assert.Contains(t, msg, "apt-get install runc")
		})
	}
}

func TestConnectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Connect(ctx, Silent(), WithAddress("unix://"+t.TempDir()+"/nope.sock"))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPlaintextTCPRefused(t *testing.T) {
	start := time.Now()
	_, err := Connect(t.Context(), Silent(), WithAddress("tcp://192.0.2.10:1234"))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNoEngine, "a refused address is a configuration error, not a missing engine")
	assert.Contains(t, err.Error(), "refusing plaintext")
	assert.Contains(t, err.Error(), "AllowInsecureTCP")
	assert.Less(t, time.Since(start), 100*time.Millisecond, "refused before dialling")
}

func TestClientOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		addr    string
		s       settings
		wantErr string
		nopts   int
	}{
		{name: "unix", addr: "unix:///run/buildkit/buildkitd.sock"},
		{name: "tcp loopback v4", addr: "tcp://127.0.0.1:1234"},
		{name: "tcp loopback v6", addr: "tcp://[::1]:1234"},
		{name: "tcp localhost", addr: "tcp://localhost:1234"},
		{name: "tcp remote plaintext", addr: "tcp://buildkit.example.com:1234", wantErr: "refusing plaintext"},
		{name: "tcp remote insecure allowed", addr: "tcp://buildkit.example.com:1234", s: settings{allowInsecureTCP: true}},
		{name: "tcp remote mTLS", addr: "tcp://buildkit.example.com:1234",
			s:     settings{tls: &TLSConfig{CACert: "ca.pem", Cert: "cert.pem", Key: "key.pem", ServerName: "buildkit"}},
			nopts: 2},
		{name: "docker-container", addr: "docker-container://buildkitd", nopts: 1}, // a dialer through Docker's API (connect_docker.go)
		{name: "kube-pod", addr: "kube-pod://buildkitd-0?namespace=ci"},
		{name: "ssh", addr: "ssh://user@host"},
		{name: "no scheme", addr: "/run/buildkit/buildkitd.sock", wantErr: "invalid engine address"},
		{name: "unknown scheme", addr: "http://host:1234", wantErr: "unsupported engine address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := clientOptions(&tc.s, tc.addr)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, opts, tc.nopts)
		})
	}
}

func TestConnectDiscoveryOrder(t *testing.T) {
	_, env := testEngine(t)

	t.Run("explicit address beats BUILDKIT_HOST", func(t *testing.T) {
		t.Setenv("BUILDKIT_HOST", "unix://"+t.TempDir()+"/nope.sock")
		e, err := Connect(t.Context(), Silent(), WithAddress(env.BuildkitHost))
		require.NoError(t, err)
		defer e.Close()
		assert.Equal(t, OriginOption, e.Origin())
		assert.Equal(t, env.BuildkitHost, e.Address())
	})
	t.Run("BUILDKIT_HOST beats the local engine", func(t *testing.T) {
		t.Setenv("BUILDKIT_HOST", env.BuildkitHost)
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		var log logBuffer
		e, err := Connect(t.Context(), WithLogOutput(&log))
		require.NoError(t, err)
		defer e.Close()
		assert.Equal(t, OriginEnv, e.Origin())
		assert.Equal(t, "lading: using engine "+env.BuildkitHost+" (BUILDKIT_HOST)\n", log.String())
	})
	t.Run("no local engine and no auto-start", func(t *testing.T) {
		t.Setenv("BUILDKIT_HOST", "")
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		_, err := Connect(t.Context(), Silent(), WithoutAutoStart())
		require.ErrorIs(t, err, ErrNoEngine)
		assert.Contains(t, err.Error(), "buildkitd.sock")
	})
}

// TestNoEngineHintFitsTheOrigin: when the address came from BUILDKIT_HOST
// or WithAddress, the first thing the error suggests is to fix that
// address (naming it), before the ways to get an engine.
func TestNoEngineHintFitsTheOrigin(t *testing.T) {
	dead := "unix://" + t.TempDir() + "/dead.sock"
	for _, tc := range []struct {
		name      string
		env       bool
		wantFirst []string
	}{
		{"BUILDKIT_HOST", true, []string{"BUILDKIT_HOST is set to " + strconv.Quote(dead), "fix BUILDKIT_HOST", "unset BUILDKIT_HOST"}},
		{"WithAddress", false, []string{strconv.Quote(dead) + " was given with engine.WithAddress", "fix the address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []Option{Silent()}
			if tc.env {
				t.Setenv("BUILDKIT_HOST", dead)
			} else {
				t.Setenv("BUILDKIT_HOST", "")
				opts = append(opts, WithAddress(dead))
			}
			_, err := Connect(t.Context(), opts...)
			require.ErrorIs(t, err, ErrNoEngine)
			lines := strings.Split(err.Error(), "\n")
			require.GreaterOrEqual(t, len(lines), 3)
			assert.Contains(t, lines[0], dead, "names the address tried")
			for _, want := range tc.wantFirst {
				assert.Contains(t, lines[1], want, "the first hint is about the address given")
			}
			assert.Less(t, strings.Index(err.Error(), "fix"), strings.Index(err.Error(), "lading engine start"),
				"fixing the address comes before starting a local engine")
		})
	}

	t.Run("the local engine gets no such hint", func(t *testing.T) {
		t.Setenv("BUILDKIT_HOST", "")
		t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
		_, err := Connect(t.Context(), Silent(), WithoutAutoStart())
		require.ErrorIs(t, err, ErrNoEngine)
		assert.NotContains(t, err.Error(), "BUILDKIT_HOST is set")
		assert.NotContains(t, err.Error(), "was given with engine.WithAddress")
	})

	t.Run("BUILDKIT_HOST that is not an address", func(t *testing.T) {
		t.Setenv("BUILDKIT_HOST", "/run/buildkit/buildkitd.sock")
		_, err := Connect(t.Context(), Silent())
		require.ErrorContains(t, err, "invalid engine address")
		assert.Contains(t, err.Error(), "fix BUILDKIT_HOST, or unset it")
	})

	t.Run("a huge BUILDKIT_HOST makes a short error", func(t *testing.T) {
		t.Setenv("BUILDKIT_HOST", "unix:///"+strings.Repeat("d", 1<<20))
		_, err := Connect(t.Context(), Silent())
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 10_000)
	})
}
