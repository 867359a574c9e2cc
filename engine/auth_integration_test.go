package engine

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// authRegistry starts a registry on a free loopback port that requires
// user "lading", password "lading-pass-1", and returns its host:port.
func authRegistry(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(testenv.BinDir(), "registry")
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
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			return addr
		}
		require.True(t, time.Now().Before(deadline), "registry did not start: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
}

// writeDockerConfig writes a Docker config with credentials for registry
// and returns its directory.
func writeDockerConfig(t *testing.T, registry, user, pass string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, registry, auth)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
	return dir
}

func TestPublishWithRegistryCredentials(t *testing.T) {
	_, env := testEngine(t)
	reg := authRegistry(t)
	e := secondEngine(t, env.Registry, WithInsecureRegistry(reg), WithDockerConfig(writeDockerConfig(t, reg, "lading", "lading-pass-1")))
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
		WithInsecureRegistry(reg), WithDockerConfig(writeDockerConfig(t, reg, "lading", "wrong")))
	require.NoError(t, err)
	defer wrong.Close()
	_, err = wrong.Publish(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt"), reg+"/lading-test/private:denied")
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), "401")
}

// thisLine returns the Go file:line of its caller, as lading reports it.
func thisLine() string {
	_, file, line, _ := runtime.Caller(1)
	return filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file) + ":" + strconv.Itoa(line)
}

// TestRegistryRefusesCredentials pushes to, and builds From an image of, a
// registry that wants a password, with no credentials and with wrong
// ones: each gives a *RegistryAuthError saying which registry and image,
// push or pull, whether credentials were found, where they were looked
// for, how to fix it and, for a base image, the From call's line.
func TestRegistryRefusesCredentials(t *testing.T) {
	env := testenv.Require(t)
	reg := authRegistry(t)
	bin := testenv.Buildkitd(t)
	isolateLocal(t)
	// The engine's buildkitd.toml reaches reg over plain HTTP.
	_, err := StartLocal(t.Context(), WithBuildkitd(bin), Silent(),
		WithRegistryMirror("docker.io", env.Registry), WithInsecureRegistry(env.Registry, reg))
	require.NoError(t, err)
	connect := func(t *testing.T, opts ...Option) *Engine {
		t.Helper()
		e, err := Connect(t.Context(), append([]Option{Silent(), WithProgress(ProgressQuiet), WithoutAutoStart(), WithInsecureRegistry(reg)}, opts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { e.Close() })
		return e
	}

	base := reg + "/lading-test/base:" + uniqueTag(t)
	good := connect(t, WithDockerConfig(writeDockerConfig(t, reg, "lading", "lading-pass-1")))
	_, err = good.Publish(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt"), base)
	require.NoError(t, err, "publishing the base image with the right credentials")

	const wrongPass = "wrong-pass-7"
	wrongDir := writeDockerConfig(t, reg, "lading", wrongPass)
	noneDir := t.TempDir()
	for _, tc := range []struct {
		name         string
		opts         []Option
		dockerConfig string // DOCKER_CONFIG, when set
		found        bool
		lookedIn     string
		says         string
	}{
		{name: "no credentials in WithDockerConfig", opts: []Option{WithDockerConfig(noneDir)},
			lookedIn: filepath.Join(noneDir, "config.json") + " (engine.WithDockerConfig, which does not exist)",
			says:     "needs credentials and none were found"},
		{name: "no credentials in DOCKER_CONFIG", dockerConfig: noneDir,
			lookedIn: filepath.Join(noneDir, "config.json") + " (DOCKER_CONFIG, which does not exist)",
			says:     "needs credentials and none were found"},
		{name: "wrong credentials", opts: []Option{WithDockerConfig(wrongDir)}, found: true,
			lookedIn: filepath.Join(wrongDir, "config.json") + " (engine.WithDockerConfig)",
			says:     "rejected the credentials found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dockerConfig != "" {
				t.Setenv("DOCKER_CONFIG", tc.dockerConfig)
			}
			e := connect(t, tc.opts...)
			check := func(t *testing.T, err error, action, ref string) *RegistryAuthError {
				t.Helper()
				var ae *RegistryAuthError
				require.ErrorAs(t, err, &ae)
				t.Log(err)
				assert.Equal(t, reg, ae.Registry)
				assert.Equal(t, ref, ae.Ref)
				assert.Equal(t, action, ae.Action)
				assert.Equal(t, tc.found, ae.CredentialsFound)
				assert.Contains(t, ae.LookedIn, tc.lookedIn)
				assert.Contains(t, ae.Fix, "docker login "+reg)
				assert.Contains(t, err.Error(), tc.says)
				assert.Contains(t, err.Error(), "401 Unauthorized", "keeps the registry's words")
				assert.NotContains(t, err.Error(), wrongPass, "never shows the password")
				return ae
			}

			t.Run("push", func(t *testing.T) {
				ref := reg + "/lading-test/pushed:" + uniqueTag(t)
				_, err := e.Publish(t.Context(), ltContainer(t).WithEntrypoint("/bin/lt"), ref)
				ae := check(t, err, "push", ref)
				assert.Empty(t, ae.Location)
				assert.True(t, strings.HasPrefix(err.Error(), "push "+ref+": "), err.Error())
			})
			t.Run("From", func(t *testing.T) {
				prog, line := sdk.From(base).WithExec([]string{"/bin/lt", "echo", uniqueTag(t)}), thisLine()
				_, err := e.Build(t.Context(), prog)
				ae := check(t, err, "pull", base)
				assert.Equal(t, line, ae.Location, "names the From call")
				assert.True(t, strings.HasPrefix(err.Error(), line+": From "), err.Error())
			})
		})
	}
}
