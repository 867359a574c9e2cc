package reliability

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"

	"github.com/ladingbuild/lading/internal/testenv"
)

// tcpForwarder listens on 127.0.0.1 and forwards each connection to the
// shared engine's unix socket: a plaintext tcp:// engine, on loopback only.
type tcpForwarder struct {
	Port  int
	conns atomic.Int32
}

func startForwarder(t *testing.T, unixAddr string) *tcpForwarder {
	t.Helper()
	sock := strings.TrimPrefix(unixAddr, "unix://")
	require.NotEqual(t, sock, unixAddr, "the test engine must be on a unix socket")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &tcpForwarder{Port: ln.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			out, err := net.Dial("unix", sock)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			open = append(open, in, out)
			mu.Unlock()
			wg.Add(2)
			// Each direction copies until a side closes, then passes the
			// close on; an error there only means a connection went away,
			// which the client sees for itself.
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); _ = out.(*net.UnixConn).CloseWrite() }()
			go func() { defer wg.Done(); _, _ = io.Copy(in, out); _ = in.(*net.TCPConn).CloseWrite() }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return f
}

// TestPlaintextTCPOnlyWithOptIn checks the rule for plaintext tcp://
// addresses end to end: loopback is allowed; a host that is not loopback
// is refused before any connection is made, whether it comes from an
// option or BUILDKIT_HOST; engine.AllowInsecureTCP lets it through.
//
// The "non-loopback" host is 0.0.0.0: not a loopback address by name, yet
// Linux delivers a connection to it locally, so no packet leaves the
// machine. engine.TestPlaintextTCPRefused and engine.TestClientOptions
// cover the check itself with TEST-NET and DNS names.
func TestPlaintextTCPOnlyWithOptIn(t *testing.T) {
	_, env := sharedEngine(t)
	fwd := startForwarder(t, env.BuildkitHost)
	loopback := fmt.Sprintf("tcp://127.0.0.1:%d", fwd.Port)
	remote := fmt.Sprintf("tcp://0.0.0.0:%d", fwd.Port)
	opts := []engine.Option{engine.Silent(), engine.WithProgress(engine.ProgressQuiet)}
	build := func(t *testing.T, e *engine.Engine) {
		t.Helper()
		want := "over tcp " + token(t)
		path := filepath.Join(t.TempDir(), "out.txt")
		require.NoError(t, e.Export(t.Context(), sdk.Scratch().WithNewFile("/out.txt", want).File("/out.txt"), path))
		assertFile(t, path, want)
	}

	t.Run("loopback", func(t *testing.T) {
		e, err := engine.Connect(t.Context(), append(opts, engine.WithAddress(loopback))...)
		require.NoError(t, err)
		defer e.Close()
		build(t, e)
	})

	t.Run("not loopback", func(t *testing.T) {
		before := fwd.conns.Load()
		_, err := engine.Connect(t.Context(), append(opts, engine.WithAddress(remote))...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refusing plaintext "+remote)
		assert.Contains(t, err.Error(), "engine.WithTLS")
		assert.Contains(t, err.Error(), "AllowInsecureTCP")
		require.NotErrorIs(t, err, engine.ErrNoEngine, "a configuration error, not a missing engine")

		t.Setenv("BUILDKIT_HOST", remote)
		_, err = engine.Connect(t.Context(), opts...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refusing plaintext", "BUILDKIT_HOST is held to the same rule")
		assert.Equal(t, before, fwd.conns.Load(), "refused before dialling")
	})

	t.Run("not loopback, allowed", func(t *testing.T) {
		before := fwd.conns.Load()
		e, err := engine.Connect(t.Context(), append(opts, engine.WithAddress(remote), engine.AllowInsecureTCP())...)
		require.NoError(t, err)
		defer e.Close()
		assert.Greater(t, fwd.conns.Load(), before)
		build(t, e)
	})
}

// TestEmptyTLSConfigIsNotPlaintext passes engine.WithTLS with no files —
// what a program gets from WithTLS(engine.TLSConfig{CACert:
// os.Getenv(...), ...}) when the variables are unset. That must not turn
// into a plaintext connection to a host that is not loopback.
func TestEmptyTLSConfigIsNotPlaintext(t *testing.T) {
	_, env := sharedEngine(t)
	fwd := startForwarder(t, env.BuildkitHost)
	remote := fmt.Sprintf("tcp://0.0.0.0:%d", fwd.Port)
	e, err := engine.Connect(t.Context(), engine.Silent(), engine.WithAddress(remote), engine.WithTLS(engine.TLSConfig{}))
	if err == nil {
		e.Close()
	}
	require.Error(t, err, "an empty TLS config connected in plaintext to %s", remote)
}

// tlsEngine is a buildkitd this test started, serving mutual TLS on a
// loopback port, with its own state directory.
type tlsEngine struct {
	Addr string
	CA   *testCA
	Dir  string // holds ca.pem, client.pem, client-key.pem
}

// startTLSEngine starts buildkitd with --addr tcp://127.0.0.1:PORT and
// --tlscacert/--tlscert/--tlskey, and stops it (by its pid) at the end.
func startTLSEngine(t *testing.T) *tlsEngine {
	t.Helper()
	bin := testenv.Buildkitd(t)
	dir := t.TempDir() // no unix socket in it: the engine listens on TCP
	ca := newCA(t, "Engine CA")
	srvCert, srvKey := ca.issue(t, "buildkitd", false, "127.0.0.1", "localhost")
	cliCert, cliKey := ca.issue(t, "lading client", true)
	writeFile(t, dir, "ca.pem", ca.PEM)
	writeFile(t, dir, "server.pem", srvCert)
	writeFile(t, dir, "server-key.pem", srvKey)
	writeFile(t, dir, "client.pem", cliCert)
	writeFile(t, dir, "client-key.pem", cliKey)
	writeFile(t, dir, "buildkitd.toml", []byte("# empty: flags only\n"))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := "tcp://" + ln.Addr().String()
	ln.Close()

	root := filepath.Join(dir, "root")
	logf, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	require.NoError(t, err)
	cmd := exec.Command(bin,
		"--config", filepath.Join(dir, "buildkitd.toml"),
		"--root", root,
		"--addr", addr,
		"--tlscacert", filepath.Join(dir, "ca.pem"),
		"--tlscert", filepath.Join(dir, "server.pem"),
		"--tlskey", filepath.Join(dir, "server-key.pem"),
		"--oci-worker=true", "--oci-worker-binary=runc", "--containerd-worker=false",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	var waitErr error // set before exited is closed
	go func() { waitErr = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		// Teardown: a failed signal means buildkitd already exited, which
		// exited says; Kill is the fallback.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		unmountUnder(dir)
		if t.Failed() {
			if dt, err := os.ReadFile(filepath.Join(dir, "buildkitd.log")); err == nil {
				t.Logf("buildkitd log:\n%s", dt)
			}
		}
	})
	// Ready when the port accepts connections.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			dt, _ := os.ReadFile(filepath.Join(dir, "buildkitd.log"))
			t.Fatalf("buildkitd exited (%v):\n%s", waitErr, dt)
		default:
		}
		if c, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://")); err == nil {
			c.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "buildkitd did not listen on %s", addr)
	}
	t.Logf("buildkitd pid %d serving mutual TLS on %s", cmd.Process.Pid, addr)
	return &tlsEngine{Addr: addr, CA: ca, Dir: dir}
}

// TestMutualTLSOnLoopback starts a buildkitd that requires mutual TLS,
// with certificates made by the test, builds on it with the right client
// certificate, and checks that every wrong combination is refused within
// 5 s with an error that wraps ErrNoEngine and says what failed.
func TestMutualTLSOnLoopback(t *testing.T) {
	srv := startTLSEngine(t)
	good := engine.TLSConfig{
		CACert: filepath.Join(srv.Dir, "ca.pem"),
		Cert:   filepath.Join(srv.Dir, "client.pem"),
		Key:    filepath.Join(srv.Dir, "client-key.pem"),
	}
	opts := func(more ...engine.Option) []engine.Option {
		return append([]engine.Option{engine.Silent(), engine.WithProgress(engine.ProgressQuiet), engine.WithAddress(srv.Addr)}, more...)
	}

	t.Run("right certificates", func(t *testing.T) {
		e, err := engine.Connect(t.Context(), opts(engine.WithTLS(good))...)
		require.NoError(t, err)
		defer e.Close()
		want := "over mutual TLS " + token(t)
		path := filepath.Join(t.TempDir(), "out.txt")
		require.NoError(t, e.Export(t.Context(), sdk.Scratch().WithNewFile("/out.txt", want).File("/out.txt"), path))
		assertFile(t, path, want)
		res, err := e.Build(t.Context(), sdk.Scratch().WithNewFile("/again", want))
		require.NoError(t, err)
		assert.Equal(t, 1, res.Summary.Ran)
	})

	// Certificates from a CA the engine does not know.
	otherDir := t.TempDir()
	other := newCA(t, "Some Other CA")
	oc, ok := other.issue(t, "intruder", true)
	otherCert := writeFile(t, otherDir, "client.pem", oc)
	otherKey := writeFile(t, otherDir, "client-key.pem", ok)
	otherCA := writeFile(t, otherDir, "ca.pem", other.PEM)

	for _, tc := range []struct {
		name string
		opts []engine.Option
		want []string // one of these in the error
	}{
		// With TLS 1.3 the engine rejects the client's certificate after
		// the client considers the handshake done: depending on timing the
		// client sees the engine's alert ("tls: certificate required") or
		// only the closed connection ("broken pipe", "connection reset").
		// Either way it is refused with ErrNoEngine. (Go's client sends no
		// certificate the engine's CA did not sign.)
		{"client certificate from another CA", []engine.Option{engine.WithTLS(engine.TLSConfig{CACert: good.CACert, Cert: otherCert, Key: otherKey})},
			[]string{"certificate", "tls", "broken pipe", "connection reset", "EOF"}},
		{"no client certificate", []engine.Option{engine.WithTLS(engine.TLSConfig{CACert: good.CACert})},
			[]string{"certificate", "tls", "broken pipe", "connection reset", "EOF"}},
		{"engine certificate not trusted", []engine.Option{engine.WithTLS(engine.TLSConfig{CACert: otherCA, Cert: good.Cert, Key: good.Key})},
			[]string{"certificate signed by unknown authority"}},
		{"wrong server name", []engine.Option{engine.WithTLS(engine.TLSConfig{CACert: good.CACert, Cert: good.Cert, Key: good.Key, ServerName: "buildkitd.example.com"})},
			[]string{"buildkitd.example.com"}},
		{"plaintext to the TLS port", nil, []string{"connection", "EOF", "tls", "handshake"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			t0 := time.Now()
			e, err := engine.Connect(ctx, opts(tc.opts...)...)
			took := time.Since(t0)
			if err == nil {
				e.Close()
			}
			require.Error(t, err)
			t.Logf("refused in %s: %v", took, firstLine(err))
			assert.Less(t, took, 5*time.Second)
			require.ErrorIs(t, err, engine.ErrNoEngine)
			assert.Contains(t, err.Error(), srv.Addr, "names the address")
			msg := strings.ToLower(err.Error())
			var said bool
			for _, w := range tc.want {
				said = said || strings.Contains(msg, strings.ToLower(w))
			}
			assert.True(t, said, "the error says what failed (one of %q): %v", tc.want, err)
		})
	}

	t.Run("missing certificate file", func(t *testing.T) {
		_, err := engine.Connect(t.Context(), opts(engine.WithTLS(engine.TLSConfig{CACert: good.CACert, Cert: filepath.Join(otherDir, "nope.pem"), Key: good.Key}))...)
		require.Error(t, err)
		t.Logf("refused: %v", firstLine(err))
		assert.Contains(t, err.Error(), "nope.pem")
	})
}
