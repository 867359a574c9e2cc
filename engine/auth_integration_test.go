package engine

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// authRegistry starts a registry on a free loopback port that requires
// user "lading", password "lading-pass-1", and returns its host:port.
func authRegistry(t *testing.T) string {
	t.Helper()
	home, _ := os.UserHomeDir()
	bin := filepath.Join(home, ".cache", "lading-testenv", "bin", "registry")
	if _, err := os.Stat(bin); err != nil {
		bin, err = exec.LookPath("registry")
		if err != nil {
			testenv.Buildkitd(t) // skips or fails the same way
			t.Skip("no registry binary (hack/testenv.sh up builds one)")
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	// bcrypt of "lading-pass-1".
	htpasswd := "lading:$2a$04$X68DznoKqHSstUF2zkwnMuvXleMJ5TLOYfe7Au48Q8fmcAaLGQ/Eq\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(htpasswd), 0o600))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s/data
http:
  addr: %s
auth:
  htpasswd:
    realm: lading-test
    path: %s/htpasswd
`, dir, addr, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600))
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			return addr
		}
		require.True(t, time.Now().Before(deadline), "registry did not start: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
}

// dockerConfig writes a Docker config with credentials for registry.
func dockerConfig(t *testing.T, registry, user, pass string) string {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, registry, auth)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
	return dir
}

func TestPublishWithRegistryCredentials(t *testing.T) {
	_, env := testEngine(t)
	reg := authRegistry(t)
	e := secondEngine(t, env.Registry, WithInsecureRegistry(reg), WithDockerConfig(dockerConfig(t, reg, "lading", "lading-pass-1")))
	ref := reg + "/lading-test/private:" + uniqueTag(t)
	dgst, err := e.Publish(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt"), ref)
	require.NoError(t, err)

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, "http://"+reg+"/v2/lading-test/private/manifests/"+dgst, nil)
	req.SetBasicAuth("lading", "lading-pass-1")
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	wrong, err := Connect(t.Context(), Silent(), WithProgress(ProgressQuiet), WithoutAutoStart(),
		WithInsecureRegistry(reg), WithDockerConfig(dockerConfig(t, reg, "lading", "wrong")))
	require.NoError(t, err)
	defer wrong.Close()
	_, err = wrong.Publish(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt"), reg+"/lading-test/private:denied")
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), "401")
}
