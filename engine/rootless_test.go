package engine

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeHost is a machine below a temporary directory: files (path ->
// content) and the programs it has.
func fakeHost(t *testing.T, files map[string]string, progs ...string) hostView {
	t.Helper()
	root := t.TempDir()
	for path, content := range files {
		full := filepath.Join(root, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	return hostView{
		root: root, uid: 1001, name: "dev", kernel: "6.1.0-28-amd64",
		lookPath: func(name string) (string, error) {
			if slices.Contains(progs, name) {
				return "/usr/bin/" + name, nil
			}
			return "", exec.ErrNotFound
		},
	}
}

// Each missing piece of a rootless engine gives an error naming it and
// its fix: the package, the /etc/subuid line, the sysctl.
func TestRootlessModeSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	all := []string{"rootlesskit", "newuidmap", "newgidmap", "runc"}
	ids := map[string]string{"/etc/subuid": "dev:100000:65536\n", "/etc/subgid": "dev:100000:65536\n"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range ids {
			m[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
				continue
			}
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		files   map[string]string
		progs   []string
		missing string
		fix     string
	}{
		{"no rootlesskit", ids, []string{"newuidmap", "newgidmap", "runc"},
			"rootlesskit is not installed", "apt-get install rootlesskit uidmap"},
		{"no newuidmap", ids, []string{"rootlesskit", "runc"},
			"newuidmap is not installed", "apt-get install uidmap"},
		{"newgidmap not setuid", with(map[string]string{"/usr/bin/newgidmap": "#!/bin/true\n"}), all,
			"/usr/bin/newgidmap is neither setuid root nor given capabilities", "chmod u+s /usr/bin/newgidmap"},
		{"no subuid range", with(map[string]string{"/etc/subuid": "other:100000:65536\nthird:165536:65536\n"}), all,
			"/etc/subuid has no range of subordinate ids for dev",
			`add the line "dev:231072:65536" to /etc/subuid (usermod --add-subuids 231072-296607 dev)`},
		{"no subuid file", with(map[string]string{"/etc/subuid": ""}), all,
			"/etc/subuid has no range of subordinate ids for dev", `add the line "dev:100000:65536" to /etc/subuid`},
		{"no subgid range", with(map[string]string{"/etc/subgid": "# none\n"}), all,
			"/etc/subgid has no range of subordinate ids for dev", "usermod --add-subgids 100000-165535 dev"},
		{"short range", with(map[string]string{"/etc/subuid": "dev:100000:1000\n"}), all,
			`/etc/subuid gives dev only 1000 subordinate ids (line "dev:100000:1000")`, `"dev:100000:65536"`},
		{"range by uid", with(map[string]string{"/etc/subuid": "1001:200000:65536\n"}), slices.Clone(all)[:3],
			"runc is not installed", "apt-get install runc"},
		{"userns clone off", with(map[string]string{"/proc/sys/kernel/unprivileged_userns_clone": "0\n"}), all,
			"unprivileged_userns_clone is 0", "sysctl -w kernel.unprivileged_userns_clone=1"},
		{"no user namespaces", with(map[string]string{"/proc/sys/user/max_user_namespaces": "0\n"}), all,
			"max_user_namespaces is 0", "sysctl -w user.max_user_namespaces=28633"},
		{"apparmor", with(map[string]string{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n"}), all,
			"apparmor_restrict_unprivileged_userns is 1", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := fakeHost(t, tc.files, tc.progs...).rootlessMode()
			var re *RootlessError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, re.Missing, tc.missing)
			assert.Contains(t, re.Fix, tc.fix)
			assert.Contains(t, err.Error(), "BUILDKIT_HOST")
		})
	}
}

// With every piece present the mode is rootless, with runc by its path
// and the snapshotter the kernel supports.
func TestRootlessModeReady(t *testing.T) {
	t.Parallel()
	ids := map[string]string{"/etc/subuid": "dev:100000:65536\n", "/etc/subgid": "dev:100000:65536\n",
		"/proc/sys/kernel/unprivileged_userns_clone": "1\n", "/proc/sys/user/max_user_namespaces": "63000\n"}
	ids["/usr/bin/newuidmap"] = "#!/bin/true\n"
	h := fakeHost(t, ids, "rootlesskit", "newuidmap", "newgidmap", "runc")
	require.NoError(t, os.Chmod(filepath.Join(h.root, "/usr/bin/newuidmap"), 0o755|os.ModeSetuid))
	m, err := h.rootlessMode()
	require.NoError(t, err)
	assert.Equal(t, localMode{rootless: true, rootlesskit: "/usr/bin/rootlesskit", runc: "/usr/bin/runc", snapshotter: "overlayfs"}, m)

	for _, tc := range []struct {
		kernel string
		progs  []string
		want   string
	}{
		{"5.11.0", nil, "overlayfs"},
		{"6.18.44-fc-v657", nil, "overlayfs"},
		{"5.10.0-32-amd64", []string{"fuse-overlayfs"}, "fuse-overlayfs"},
		{"4.19.0", nil, "native"},
		{"garbage", nil, "native"},
	} {
		h := fakeHost(t, nil, tc.progs...)
		h.kernel = tc.kernel
		assert.Equal(t, tc.want, h.rootlessSnapshotter(), tc.kernel)
	}
}

// The rootless engine's command runs buildkitd under rootlesskit with
// the host network and its own pid namespace; its buildkitd.toml marks
// the worker rootless and names runc by its path. As root both stay what
// they were.
func TestRootlessCommandAndConfig(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	p := localPaths{runDir: t.TempDir(), socket: "/r/buildkitd.sock", root: "/c/engine", config: "/c/buildkitd.toml"}
	m := localMode{rootless: true, rootlesskit: "/usr/bin/rootlesskit", runc: "/usr/sbin/runc", snapshotter: "native"}
	cmd := m.command("/bin/buildkitd", p)
	assert.Equal(t, "/usr/bin/rootlesskit", cmd.Path)
	args := strings.Join(cmd.Args[1:], " ")
	assert.Equal(t, "--net=host --port-driver=none --pidns --state-dir="+filepath.Join(p.runDir, "rootlesskit")+
		" /bin/buildkitd --rootless --oci-worker-binary=/usr/sbin/runc --config /c/buildkitd.toml --root /c/engine"+
		" --addr unix:///r/buildkitd.sock --oci-worker=true --oci-worker-snapshotter=native --containerd-worker=false", args)
	assert.Contains(t, cmd.Env, "XDG_RUNTIME_DIR="+p.runDir, "runc's state goes below the run dir, not /run/runc")
	assert.Equal(t, "[worker.oci]\n  enabled = true\n  snapshotter = \"native\"\n  binary = \"/usr/sbin/runc\"\n  rootless = true\n", m.workerSection())

	root := localMode{}.command("/bin/buildkitd", p)
	assert.Equal(t, []string{"/bin/buildkitd", "--config", "/c/buildkitd.toml", "--root", "/c/engine", "--addr", "unix:///r/buildkitd.sock",
		"--oci-worker=true", "--oci-worker-snapshotter=overlayfs", "--containerd-worker=false", "--oci-worker-binary=runc"}, root.Args)
	assert.Nil(t, root.Env)
}

// A run directory another user could write is refused.
func TestCheckRunDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o700))
	require.NoError(t, checkRunDir(dir))
	require.NoError(t, os.Chmod(dir, 0o777)) //nolint:gosec // the test's point
	err := checkRunDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not yours alone")
	assert.ErrorIs(t, checkRunDir(filepath.Join(dir, "none")), os.ErrNotExist)
}

// A run directory too deep for a unix socket is refused before anything
// is pulled or started, with the fix; before, buildkitd failed after the
// image pull with "unix socket path too long" and no way out.
func TestCheckRunDirTooDeep(t *testing.T) {
	t.Parallel()
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	require.NoError(t, os.Mkdir(deep, 0o700))
	err := checkRunDir(deep)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is too deep for its sockets")
	assert.Contains(t, err.Error(), "set XDG_RUNTIME_DIR to a shorter directory")
}

func TestIsEngineCommand(t *testing.T) {
	t.Parallel()
	for argv0, want := range map[string]bool{
		"/usr/bin/buildkitd": true, "buildkitd": true, "/usr/bin/rootlesskit": true,
		"/usr/bin/sleep": false, "rootlesskit-docker-proxy": false,
	} {
		assert.Equal(t, want, isEngineCommand(argv0), argv0)
	}
}

// Connect's error for a machine that cannot run rootless holds the
// RootlessError and ErrNoEngine both.
func TestRootlessErrorThroughConnect(t *testing.T) {
	t.Parallel()
	err := noEngineError("unix:///tmp/lading-1000/buildkitd.sock", OriginStarted,
		&RootlessError{Missing: "runc is not installed", Fix: "install it as root: apt-get install runc"})
	var re *RootlessError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "runc is not installed", re.Missing)
	require.ErrorIs(t, err, ErrNoEngine)
	assert.Contains(t, err.Error(), "runc is not installed: install it as root: apt-get install runc; or set BUILDKIT_HOST")
}

// runc is found in /usr/sbin even when PATH lacks it, as a non-root
// user's PATH often does.
func TestLookPathOrSbin(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/runc"); err != nil {
		t.Skip("no /usr/sbin/runc here")
	}
	t.Setenv("PATH", t.TempDir())
	p, err := lookPathOrSbin("runc")
	require.NoError(t, err)
	assert.Equal(t, "/usr/sbin/runc", p)
	_, err = lookPathOrSbin("no-such-program-anywhere")
	require.ErrorIs(t, err, exec.ErrNotFound)
}

// With neither XDG_CACHE_HOME nor HOME (a service, runuser, sudo -u), the
// local engine's cache goes to the user's home from the password
// database, not to a directory under /tmp that every user shares: before,
// it was $TMPDIR/lading for everyone, so a second user's start failed on
// the first one's directory, or ran the first one's binary.
func TestLocalCacheWithoutHome(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	p := localEnginePaths()
	assert.NotEqual(t, filepath.Join(os.TempDir(), "lading"), p.cacheDir, "a directory every user shares")
	u, err := user.Current()
	require.NoError(t, err)
	if fi, err := os.Stat(u.HomeDir); err == nil && fi.IsDir() && u.HomeDir != "/" {
		assert.Equal(t, filepath.Join(u.HomeDir, ".cache", "lading"), p.cacheDir)
	} else {
		assert.Equal(t, filepath.Join(os.TempDir(), "lading-"+strconv.Itoa(os.Geteuid()), "cache", "lading"), p.cacheDir)
	}
}
