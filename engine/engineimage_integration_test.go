package engine

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// imageTestEnv returns the test environment's registry and the digest it
// serves for the stand-in moby/buildkit image (hack/testenv.d/firststart.sh),
// with the local engine's files isolated, no buildkitd on PATH, and a fake
// Go toolchain first on PATH that records its calls in the returned file:
// a build from the Go module, which takes minutes for real, copies the test
// environment's buildkitd when build is set, and fails otherwise. It needs
// no BUILDKIT_HOST: the timing pass of make test runs without the test
// environment's variables, so the registry defaults to the environment's
// address and the digest is asked of it.
func imageTestEnv(t *testing.T, build bool) (registry, digest, goCalls string) {
	t.Helper()
	bin := testenv.Buildkitd(t) // root and runc, or skip
	if v := os.Getenv("LADING_TEST_BUILDKIT_VERSION"); v != "" && v != buildkitVersion() {
		t.Skipf("the engine image path is tested on the run with BuildKit %s (this run: %s)", buildkitVersion(), v)
	}
	registry = os.Getenv("LADING_TEST_REGISTRY")
	if registry == "" {
		registry = "127.0.0.1:5000"
	}
	digest = os.Getenv("LADING_TEST_ENGINE_IMAGE_DIGEST")
	if digest == "" {
		digest = standInDigest(registry)
	}
	if digest == "" {
		msg := "the registry " + registry + " serves no moby/buildkit:" + buildkitVersion() + ": run hack/testenv.sh up and eval \"$(hack/testenv.sh env)\""
		if testenv.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	isolateLocal(t)
	t.Setenv("LADING_ENGINE_IMAGE", "")
	t.Setenv("LADING_BUILDKITD", "")
	t.Setenv("LADING_REGISTRY_MIRROR", "")
	t.Setenv("LADING_INSECURE_REGISTRY", "")

	fake := t.TempDir()
	goCalls = filepath.Join(fake, "go-calls")
	script := "#!/bin/sh\necho \"$*\" >>" + goCalls + "\n"
	if build {
		script += `case "$1" in
mod) exit 0 ;;
build) while [ $# -gt 0 ]; do [ "$1" = -o ] && exec cp "` + bin + `" "$2"; shift; done ;;
esac
`
	}
	script += "echo 'fake go: unexpected call' >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755))
	dirs := []string{fake}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "buildkitd")); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "go")); err == nil {
			continue
		}
		dirs = append(dirs, d)
	}
	t.Setenv("PATH", strings.Join(dirs, string(os.PathListSeparator)))
	return registry, digest, goCalls
}

// standInDigest asks the registry for the digest of the stand-in's tag;
// "" when it does not answer with one.
func standInDigest(registry string) string {
	req, err := http.NewRequest(http.MethodHead, "http://"+registry+"/v2/moby/buildkit/manifests/"+buildkitVersion(), nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// The first start on a fresh cache takes buildkitd and buildctl from the
// moby/buildkit image through the docker.io mirror in seconds, records the
// digest, and later starts use the cache without the registry. Timed, so
// it runs in make test's pass without the race detector (under it,
// unpacking the 80 MB of binaries alone takes half a minute); the pull
// code runs under it in TestPullEngineBinaries.
func TestEngineFirstStartFromImageIsFast(t *testing.T) {
	if raceEnabled {
		t.Skip("timed: runs in the pass without the race detector (go test -run 'IsFast$')")
	}
	registry, digest, goCalls := imageTestEnv(t, false)
	ctx := t.Context()
	p := localEnginePaths()

	var log logBuffer
	t0 := time.Now()
	le, err := StartLocal(ctx, WithLogOutput(&log),
		WithRegistryMirror("docker.io", registry), WithInsecureRegistry(registry))
	elapsed := time.Since(t0)
	require.NoError(t, err, "log:\n%s", log.String())
	t.Logf("first start in %s: %s", elapsed, strings.TrimSpace(log.String()))
	assert.Less(t, elapsed, 15*time.Second, "target: the first start takes seconds")
	assert.NoFileExists(t, goCalls, "no build from the Go module")

	require.NotNil(t, le.Source)
	host := platforms.Format(platforms.Normalize(platforms.DefaultSpec()))
	assert.Equal(t, BinaryFromImage, le.Source.From)
	assert.Equal(t, "docker.io/moby/buildkit:"+buildkitVersion(), le.Source.Image)
	assert.Equal(t, digest, le.Source.Digest, "the digest the registry serves for the tag")
	assert.NotEqual(t, digest, le.Source.Manifest, "the platform's manifest within the index")
	assert.Equal(t, host, le.Source.Platform)
	assert.Equal(t, registry, le.Source.Registry)
	assert.Equal(t, buildkitVersion(), le.Source.Version)
	assert.Equal(t, p.binary, le.Binary)
	assert.Contains(t, log.String(), "from image docker.io/moby/buildkit:"+buildkitVersion()+" ("+shortDigest(digest)+", "+host+") via "+registry)
	for _, f := range []string{p.binary, filepath.Join(filepath.Dir(p.binary), "buildctl")} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&0o100, "%s is executable", f)
		v, err := binaryVersion(ctx, f)
		require.NoError(t, err)
		assert.Equal(t, buildkitVersion(), v)
	}
	var rec BinarySource
	dt, err := os.ReadFile(sourceFile(p.binary))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &rec))
	assert.Equal(t, digest, rec.Digest, "the record beside the binary")
	entries, err := os.ReadDir(filepath.Dir(p.binary))
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".pull-", "no temporary files left")
	}

	st, err := LocalStatus(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Source, "LocalStatus reads the record of the running binary")
	assert.Equal(t, digest, st.Source.Digest)
	assert.Equal(t, registry, st.Source.Registry)

	e, err := Connect(ctx, Silent(), WithoutAutoStart())
	require.NoError(t, err)
	status, err := e.Status(ctx)
	e.Close()
	require.NoError(t, err)
	assert.Equal(t, buildkitVersion(), status.Version, "the engine runs the image's buildkitd")

	// Second start: no download. The mirror now refuses connections and
	// docker.io is not reachable: the start works from the cache alone.
	before, err := os.Stat(p.binary)
	require.NoError(t, err)
	require.NoError(t, StopLocal(ctx))
	t.Setenv("HTTPS_PROXY", "http://"+closedAddr(t))
	dead := closedAddr(t)
	log = logBuffer{}
	t0 = time.Now()
	le, err = StartLocal(ctx, WithLogOutput(&log), WithRegistryMirror("docker.io", dead), WithInsecureRegistry(dead))
	require.NoError(t, err, "log:\n%s", log.String())
	t.Logf("second start in %s", time.Since(t0))
	assert.NotContains(t, log.String(), "from image")
	after, err := os.Stat(p.binary)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after) && before.ModTime().Equal(after.ModTime()), "the cached binary is used as it is")
	require.NotNil(t, le.Source)
	assert.Equal(t, digest, le.Source.Digest)

	// A pin of the digest already cached needs no registry either.
	require.NoError(t, StopLocal(ctx))
	le, err = StartLocal(ctx, WithLogOutput(&log), WithEngineImage("moby/buildkit@"+digest),
		WithRegistryMirror("docker.io", dead), WithInsecureRegistry(dead))
	require.NoError(t, err, "log:\n%s", log.String())
	assert.Equal(t, digest, le.Source.Digest)
	assert.NoFileExists(t, goCalls)

	// A cached binary truncated since it was stored is never started: the
	// next start takes it from the image again.
	require.NoError(t, StopLocal(ctx))
	// The stopped process's image may be released a moment after it
	// exits (a reader of its /proc files holds it): "text file busy".
	require.Eventually(t, func() bool { return os.Truncate(p.binary, 4096) == nil }, 5*time.Second, 20*time.Millisecond)
	log = logBuffer{}
	le, err = StartLocal(ctx, WithLogOutput(&log), WithRegistryMirror("docker.io", registry), WithInsecureRegistry(registry))
	require.NoError(t, err, "log:\n%s", log.String())
	assert.Contains(t, log.String(), "changed since lading stored it")
	assert.Equal(t, BinaryFromImage, le.Source.From)
	v, err := binaryVersion(ctx, p.binary)
	require.NoError(t, err, "the binary taken again runs")
	assert.Equal(t, buildkitVersion(), v)
	assert.NoFileExists(t, goCalls)
}

// A pinned digest no registry serves, or one for another platform, fails
// with the image, the mirror and the fix, and never falls back to a build.
func TestEngineImagePinnedWrongDigest(t *testing.T) {
	registry, _, goCalls := imageTestEnv(t, true)
	t.Setenv("HTTPS_PROXY", "http://"+closedAddr(t)) // docker.io stays out of reach
	idx := testenv.RegistryGet(t, registry, "/v2/moby/buildkit/manifests/"+buildkitVersion(), "application/vnd.oci.image.index.v1+json")
	var index struct {
		Manifests []struct {
			Digest   string
			Platform struct{ Architecture string }
		}
	}
	require.NoError(t, json.Unmarshal(idx, &index))
	var other string
	for _, m := range index.Manifests {
		if m.Platform.Architecture != platforms.DefaultSpec().Architecture {
			other = m.Digest
		}
	}
	require.NotEmpty(t, other, "the stand-in index lists another platform")
	otherArch := map[bool]string{true: "arm64", false: "amd64"}[platforms.DefaultSpec().Architecture == "amd64"]

	for _, tc := range []struct {
		name, pin string
		want      []string
	}{
		{"unknown digest", "moby/buildkit@sha256:" + strings.Repeat("0", 64), []string{"MANIFEST_UNKNOWN"}},
		{"another platform", "moby/buildkit@" + other, []string{"the image is for linux/" + otherArch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateLocal(t)
			t.Setenv("LADING_ENGINE_IMAGE", tc.pin)
			_, err := StartLocal(t.Context(), Silent(), WithRegistryMirror("docker.io", registry), WithInsecureRegistry(registry))
			require.Error(t, err)
			msg := err.Error()
			t.Log(msg)
			for _, w := range append(tc.want,
				"engine image docker.io/"+strings.TrimPrefix(tc.pin, "docker.io/"),
				"(LADING_ENGINE_IMAGE)",
				registry+" (mirror of docker.io)",
				"the digest is pinned",
				"skopeo copy --all",
				"engine.WithRegistryMirror",
			) {
				assert.Contains(t, msg, w)
			}
			assert.NoFileExists(t, goCalls, "a pinned image never falls back to a build")
			assert.NoFileExists(t, localEnginePaths().binary)
		})
	}
}

// No registry serves the image (the mirror refuses connections, docker.io
// is out of reach): the start falls back to building buildkitd from the Go
// module, and says so. Only the Go toolchain is a stand-in here (see
// engineImageEnv); the decision and the build's own code are real.
func TestEngineImageUnreachableFallsBackToModuleBuild(t *testing.T) {
	_, _, goCalls := imageTestEnv(t, true)
	t.Setenv("HTTPS_PROXY", "http://"+closedAddr(t))
	dead := closedAddr(t)
	ctx := t.Context()

	var log logBuffer
	le, err := StartLocal(ctx, WithLogOutput(&log), WithRegistryMirror("docker.io", dead), WithInsecureRegistry(dead))
	require.NoError(t, err, "log:\n%s", log.String())
	t.Logf("log: %s", log.String())
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	require.Len(t, lines, 1, "one line says which path was taken")
	for _, w := range []string{
		"no registry served a usable engine image",
		"docker.io/moby/buildkit:" + buildkitVersion(),
		dead + " (mirror of docker.io)",
		"building buildkitd " + buildkitVersion() + " from the Go module",
		"a registry mirror that serves docker.io/moby/buildkit:" + buildkitVersion() + " makes the first start take seconds",
	} {
		assert.Contains(t, lines[0], w)
	}
	calls, err := os.ReadFile(goCalls)
	require.NoError(t, err, "the Go toolchain was called")
	assert.Contains(t, string(calls), "mod tidy")
	assert.Contains(t, string(calls), "version.Version="+buildkitVersion())
	assert.Contains(t, string(calls), "github.com/moby/buildkit/cmd/buildkitd")
	require.NotNil(t, le.Source)
	assert.Equal(t, BinaryFromModule, le.Source.From)
	assert.Equal(t, buildkitVersion(), le.Source.Version)
	st, err := LocalStatus(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Source)
	assert.Equal(t, BinaryFromModule, st.Source.From)
}
