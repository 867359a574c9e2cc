package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// EmptyRegistry starts a registry of its own, empty, on a free loopback
// port (the test environment's registry binary, $LADING_TESTENV_BIN/
// registry, with its storage under t.TempDir()), stops it when the test
// ends, and returns its host:port, reached over plain HTTP. Without the
// binary the test is skipped, or fails when Required.
func EmptyRegistry(t testing.TB) string {
	t.Helper()
	return startRegistry(t, "", http.StatusOK)
}

// Registry users of [AuthRegistry].
const (
	RegistryUser     = "lading"
	RegistryPassword = "lading-pass-1"
)

// AuthRegistry is [EmptyRegistry] requiring basic authentication as
// RegistryUser with RegistryPassword.
func AuthRegistry(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	// bcrypt of RegistryPassword.
	htpasswd := RegistryUser + ":$2a$04$X68DznoKqHSstUF2zkwnMuvXleMJ5TLOYfe7Au48Q8fmcAaLGQ/Eq\n"
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(htpasswd), 0o600); err != nil {
		t.Fatal(err)
	}
	return startRegistry(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: lading-test\n    path: %s/htpasswd\n", dir), http.StatusUnauthorized)
}

// startRegistry starts a registry with extra configuration and waits
// until /v2/ answers want.
func startRegistry(t testing.TB, extra string, want int) string {
	t.Helper()
	bin := filepath.Join(BinDir(), "registry")
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("registry"); err != nil {
			msg := "no registry binary: run hack/testenv.sh up"
			if Required() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: %s\n%s", dir, addr, extra)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		// Teardown: the registry is killed, so its exit status says nothing.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("registry on %s answers %s", addr, resp.Status)
			}
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry on %s did not start: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
