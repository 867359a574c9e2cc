package testenv

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Buildkitd returns a buildkitd binary for tests that start their own
// engine: LADING_TEST_BUILDKITD (which `hack/testenv.sh env` exports, and
// `make test` points at the oldest supported version for its second run),
// else one on PATH, in lading's cache, or the test environment's. Without
// one, or without root or runc, the test is skipped, or fails when
// Required.
func Buildkitd(t testing.TB) string {
	t.Helper()
	missing := func(msg string) {
		t.Helper()
		if Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		missing("starting a buildkitd needs root")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		missing("starting a buildkitd needs runc (apt-get install runc)")
	}
	if p := os.Getenv("LADING_TEST_BUILDKITD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LADING_TEST_BUILDKITD: %v (run hack/testenv.sh up)", err)
		}
		return p
	}
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	for _, p := range []string{
		filepath.Join(BinDir(), "buildkitd"),
		filepath.Join(home, ".cache", "lading", "bin", "buildkitd"),
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	missing("no buildkitd binary: run hack/testenv.sh up (or `lading engine start` once)")
	return ""
}

// RegistryGet fetches path (e.g. "/v2/repo/manifests/tag") from the
// registry's HTTP API and fails the test unless it answers 200.
func RegistryGet(t testing.TB, registry, path, accept string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+registry+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body
}
