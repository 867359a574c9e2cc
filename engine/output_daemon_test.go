package engine

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

func TestLoadTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		refs  []string
		want  []string
		error string
	}{
		{"name only means latest", []string{"app"}, []string{"docker.io/library/app:latest"}, ""},
		{"short extra tags", []string{"team/app:1.0", "1", "latest"},
			[]string{"docker.io/team/app:1.0", "docker.io/team/app:1", "docker.io/team/app:latest"}, ""},
		{"full extra reference", []string{"app:1", "registry.example.com/app:2"},
			[]string{"docker.io/library/app:1", "registry.example.com/app:2"}, ""},
		{"empty", []string{""}, nil, "needs an image name"},
		{"bad name", []string{"App:1"}, nil, "invalid image reference"},
		{"digest", []string{"app@sha256:" + strings.Repeat("a", 64)}, nil, "names a digest"},
		{"bad extra tag", []string{"app:1", "no good"}, nil, `invalid tag "no good"`},
		{"digest as extra", []string{"app:1", "app@sha256:" + strings.Repeat("a", 64)}, nil, "not digests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadTags(tc.refs)
			if tc.error != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.error)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDaemonOrder(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no context in use
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_HOST", "unix:///env/docker.sock")
	t.Setenv("CONTAINER_HOST", "unix:///env/podman.sock")
	for _, tc := range []struct {
		kind               daemonKind
		explicit, setting  string
		wantAddr, wantFrom string
	}{
		{kindDocker, "unix:///at.sock", "unix:///opt.sock", "unix:///at.sock", "the output's At"},
		{kindDocker, "", "unix:///opt.sock", "unix:///opt.sock", "engine.WithDockerHost"},
		{kindDocker, "", "", "unix:///env/docker.sock", "DOCKER_HOST"},
		{kindPodman, "", "unix:///opt.sock", "unix:///env/podman.sock", "CONTAINER_HOST"},
	} {
		got, err := resolveDaemon(tc.kind, tc.explicit, &settings{dockerHost: tc.setting}, "")
		require.NoError(t, err)
		assert.Equal(t, tc.wantAddr, got.addr)
		assert.Equal(t, tc.wantFrom, got.from)
	}
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("CONTAINER_HOST", "")
	got, err := resolveDaemon(kindDocker, "", &settings{}, "")
	require.NoError(t, err)
	assert.Equal(t, "unix:///var/run/docker.sock", got.addr)
	got, err = resolveDaemon(kindPodman, "", &settings{}, "")
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(got.addr, "/podman/podman.sock"), got.addr)
}

// A Docker context that does not exist is an error naming it and how it
// was chosen, never a silent fall back to another daemon.
func TestDaemonMissingContext(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "nowhere")
	_, err := resolveDaemon(kindDocker, "", &settings{}, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Docker context "nowhere" (DOCKER_CONTEXT): context "nowhere": context not found`)
	assert.Contains(t, err.Error(), "docker context create")

	t.Setenv("DOCKER_CONTEXT", "")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"gone"}`), 0o600))
	_, err = resolveDaemon(kindDocker, "", &settings{}, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Docker context "gone" (the Docker config's current context)`)

	t.Setenv("DOCKER_HOST", "unix:///env/docker.sock")
	got, err := resolveDaemon(kindDocker, "", &settings{}, "")
	require.NoError(t, err, "DOCKER_HOST wins over the current context, as for Docker's CLI")
	assert.Equal(t, "unix:///env/docker.sock", got.addr)
}

func TestReadLoadStream(t *testing.T) {
	t.Parallel()
	d := &daemonConn{kind: kindDocker, addr: "unix:///d.sock"}
	require.NoError(t, readLoadStream(strings.NewReader(`{"stream":"Loaded image: app:1\n"}`), d))
	err := readLoadStream(strings.NewReader(`{"stream":"x"}{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}`), d)
	require.Error(t, err)
	assert.Equal(t, "loading into docker at unix:///d.sock: the daemon refused the image: unexpected EOF", err.Error())
	err = readLoadStream(strings.NewReader(`{"error":"no space left"}`), d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no space left")
	require.Error(t, readLoadStream(strings.NewReader(`{"stream":`), d))
}

// What a load output refuses, it refuses before asking any daemon.
func TestLoadOutputRefusals(t *testing.T) {
	t.Parallel()
	e := &Engine{s: settings{platforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}}}
	_, err := DockerLoad("app:1").prepare(e, &lllb.Program{Kind: lllb.KindContainer})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a build for 2 platforms cannot be loaded into docker")

	_, err = PodmanLoad("app:1").prepare(&Engine{}, &lllb.Program{Kind: lllb.KindFile})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "podman load app:1: only a container can be loaded into podman")

	o := DockerLoad("app:1")
	at := o.At("unix:///x.sock")
	assert.Empty(t, o.host, "At returns a copy")
	assert.Equal(t, "unix:///x.sock", at.host)
	assert.Equal(t, "docker load app:1", o.String())

	var none *LoadOutput
	assert.Nil(t, none.At("unix:///x.sock"))
	_, err = none.prepare(&Engine{}, &lllb.Program{Kind: lllb.KindContainer})
	require.Error(t, err)
}

func TestWithDockerHostPlace(t *testing.T) {
	t.Parallel()
	_, err := applyOptions(atStartLocal, []Option{WithDockerHost("unix:///d.sock")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "engine.WithDockerHost has no effect in engine.StartLocal")
	s, err := applyOptions(atConnect, []Option{WithDockerHost("unix:///d.sock")})
	require.NoError(t, err)
	assert.Equal(t, "unix:///d.sock", s.dockerHost)
}

func TestDockerContainerAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, error string }{
		{"docker-container://", "names no container"},
		{"docker-container://bk?context=lading-no-such-context", `Docker context "lading-no-such-context" (the address's context)`},
	} {
		u, err := url.Parse(tc.addr)
		require.NoError(t, err)
		_, err = dockerContainerOptions(&settings{}, u)
		require.Error(t, err, tc.addr)
		assert.Contains(t, err.Error(), tc.error)
	}
	opts, err := clientOptions(&settings{}, "docker-container://bk")
	require.NoError(t, err)
	assert.Len(t, opts, 1, "a dialer through Docker's API")
}

// TLS for a tcp:// daemon comes from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
func TestDaemonTLSFromEnv(t *testing.T) {
	certs := t.TempDir()
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", certs)
	_, err := dialDaemon(t.Context(), kindDocker, daemonTarget{addr: "tcp://127.0.0.1:2376", from: "DOCKER_HOST"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `docker address "tcp://127.0.0.1:2376" (from DOCKER_HOST)`)
	assert.Contains(t, err.Error(), certs, "the certificates were looked for where DOCKER_CERT_PATH says")
}
