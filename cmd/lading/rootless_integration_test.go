package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// rootlessChildEnv marks the copy of this test binary that runs as the
// non-root user.
const rootlessChildEnv = "LADING_TEST_ROOTLESS_CHILD"

// The local engine started by a non-root user runs rootless: the test
// binary runs itself again as LADING_TEST_ROOTLESS_USER, with a fresh HOME
// and XDG dirs, and that copy starts the engine through Connect, builds
// with RUN steps and a cache volume, runs engine status, du, prune and
// stop, and checks that no process of the engine runs as root and that
// kill -9 of rootlesskit leaves no step running. du prints
// the same fields as on the rootful test engine. Before the rootless mode,
// Connect as a non-root user failed with "needs root".
func TestRootlessEngine(t *testing.T) {
	if os.Getenv(rootlessChildEnv) != "" {
		rootlessChild(t)
		return
	}
	env := testenv.Require(t)
	bin := testenv.Buildkitd(t)
	u := rootlessUser(t, "LADING_TEST_ROOTLESS_USER")
	uid, _ := strconv.Atoi(u.Uid)
	home := runAsUser(t, u, bin, "LADING_TEST_REGISTRY="+env.Registry)

	// Nothing of the engine outlives stop.
	assert.Empty(t, liveProcesses(t, func(p procInfo) bool { return p.uid == uid && strings.Contains(p.cmdline, home) }),
		"processes of the rootless engine still running after engine stop")

	// du reports the same fields as on the rootful engine.
	rootless, err := os.ReadFile(filepath.Join(home, "du.txt"))
	require.NoError(t, err)
	var rootful, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "du", "-v", "--addr", env.BuildkitHost}, &rootful, &errOut))
	assert.Equal(t, duFields(rootful.String()), duFields(string(rootless)))
}

// A user with no range in /etc/subuid (the test environment makes one)
// gets, from Connect, a RootlessError that names the file and the line to
// add, and no engine starts.
func TestRootlessEngineWithoutSubordinateIDs(t *testing.T) {
	if os.Getenv(rootlessChildEnv) != "" {
		rootlessChildWithoutIDs(t)
		return
	}
	testenv.Require(t)
	bin := testenv.Buildkitd(t)
	u := rootlessUser(t, "LADING_TEST_ROOTLESS_USER_NO_IDS")
	runAsUser(t, u, bin)
}

// runAsUser runs the calling test again, as the user u, from a copy of
// the test binary, with a fresh HOME (which it returns), TMPDIR and
// XDG_CACHE_HOME in a directory the user can read, and buildkitd bin
// there too; env adds variables. The test fails unless that run passes.
func runAsUser(t *testing.T, u *user.User, bin string, env ...string) string {
	t.Helper()
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// Short, for the socket path.
	dir, err := os.MkdirTemp("", "ld-rl-") //nolint:usetesting // unix socket paths must be short
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	home := filepath.Join(dir, "home")
	for _, d := range []string{home, filepath.Join(home, "tmp")} {
		require.NoError(t, os.Mkdir(d, 0o700))
		require.NoError(t, os.Chown(d, uid, gid))
	}
	t.Cleanup(func() {
		// A child that failed half-way may leave its engine: killing
		// rootlesskit ends its pid namespace, every step included.
		if dt, err := os.ReadFile(filepath.Join(home, "tmp", "lading-"+u.Uid, "buildkitd.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(dt))); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		os.RemoveAll(dir)
	})
	self, err := os.Executable()
	require.NoError(t, err)
	testBin := shareFile(t, self, filepath.Join(dir, "lading.test"))
	kitBin := shareFile(t, bin, filepath.Join(dir, "bin", "buildkitd"))

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "setpriv", "--reuid", u.Uid, "--regid", u.Gid, "--init-groups",
		testBin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = home
	cmd.Env = append([]string{
		rootlessChildEnv + "=1",
		"HOME=" + home, "USER=" + u.Username, "LOGNAME=" + u.Username,
		"PATH=/usr/local/bin:/usr/bin:/bin", // no sbin: runc must be found there anyway
		// No XDG_RUNTIME_DIR, as in a CI job or over su: the engine's
		// socket goes to $TMPDIR/lading-UID, and runc's state must not
		// go to /run/runc.
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"LADING_BUILDKITD=" + kitBin,
		"LADING_REQUIRE_ENGINE=1",
	}, env...)
	out, err := cmd.CombinedOutput()
	t.Logf("as %s (uid %d):\n%s", u.Username, uid, out)
	require.NoError(t, err, "the run as %s failed; see its output above", u.Username)
	require.Contains(t, string(out), "--- PASS: "+t.Name())
	return home
}

// rootlessChildWithoutIDs is the run as the user without a range.
func rootlessChildWithoutIDs(t *testing.T) {
	require.NotZero(t, os.Geteuid(), "the rootless run must not be root")
	name := os.Getenv("USER")
	_, err := engine.Connect(t.Context(), engine.Silent())
	var re *engine.RootlessError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, engine.ErrNoEngine)
	assert.Equal(t, "/etc/subuid has no range of subordinate ids for "+name, re.Missing)
	assert.Regexp(t, `^as root, add the line "`+name+`:\d+:65536" to /etc/subuid \(usermod --add-subuids \d+-\d+ `+name+`\)$`, re.Fix)
	le, err := engine.LocalStatus(t.Context())
	require.NoError(t, err)
	assert.False(t, le.Running)
	assert.NoFileExists(t, filepath.Join(os.TempDir(), fmt.Sprintf("lading-%d", os.Geteuid()), "buildkitd.pid"))
}

// rootlessChild is the run as the non-root user.
func rootlessChild(t *testing.T) {
	require.NotZero(t, os.Geteuid(), "the rootless run must not be root")
	reg := os.Getenv("LADING_TEST_REGISTRY")
	ctx := t.Context()

	// Connect starts the local engine, and says it is rootless.
	var log bytes.Buffer
	eng, err := engine.Connect(ctx, engine.WithLogOutput(&log), engine.WithProgress(engine.ProgressQuiet),
		engine.WithRegistryMirror("docker.io", reg), engine.WithInsecureRegistry(reg))
	require.NoError(t, err, log.String())
	defer eng.Close()
	assert.Contains(t, log.String(), "(local engine, started, rootless)")
	le, err := engine.LocalStatus(ctx)
	require.NoError(t, err)
	require.True(t, le.Running)
	assert.True(t, le.Rootless)
	assert.Equal(t, filepath.Join(os.Getenv("XDG_CACHE_HOME"), "lading", "engine"), le.Root)
	assert.Equal(t, "unix://"+filepath.Join(os.TempDir(), fmt.Sprintf("lading-%d", os.Geteuid()), "buildkitd.sock"), le.Address)

	// No process of the engine runs as root: rootlesskit, its child,
	// buildkitd and whatever they started.
	procs := liveProcesses(t, descendsFrom(t, le.PID))
	assert.GreaterOrEqual(t, len(procs), 3, "rootlesskit, its namespace's init and buildkitd: %v", procs)
	for _, p := range procs {
		assert.Equal(t, os.Geteuid(), p.uid, "process %d (%s) runs as uid %d", p.pid, p.cmdline, p.uid)
	}

	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, []string{"engine", "status"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "mode:     rootless\n")
	assert.Contains(t, out.String(), "snapshotter=overlayfs") // Linux 5.11 and later
	out.Reset()
	require.NoError(t, run(ctx, []string{"engine", "start"}, &out, &errOut), errOut.String())
	assert.Regexp(t, fmt.Sprintf(`^engine ready at %s \(pid %d, rootless, [\d.]+m?s\)\n`, regexp.QuoteMeta(le.Address), le.PID), out.String())

	// A RUN step, as root of the user namespace, which maps to the user;
	// a cache volume keeps its files from one build to the next.
	vol := fmt.Sprintf("rootless-%d", time.Now().UnixNano())
	step := func(word string) string {
		t.Helper()
		got, err := eng.Stdout(ctx, sdk.From("debian:bookworm-slim").
			WithMountedCache("/cache", sdk.CacheVolume(vol)).
			WithExec([]string{"sh", "-c", "head -c 200000 /dev/zero > /cache/data; echo " + word + " >> /cache/words; " +
				"id -u; head -n 1 /proc/self/uid_map; cat /cache/words"}))
		require.NoError(t, err)
		return got
	}
	first := strings.Fields(step("one"))
	require.Len(t, first, 5, "id -u, the uid_map line, one word: %q", first)
	assert.Equal(t, []string{"0", "0", strconv.Itoa(os.Geteuid()), "1", "one"}, first,
		"the step runs as root of a user namespace that maps root to the user")
	assert.Equal(t, "one\ntwo", lastLines(step("two"), 2))

	// Outputs: a file to the host, owned by the user; an image pushed to
	// the registry on loopback.
	made := sdk.From("debian:bookworm-slim").WithExec([]string{"sh", "-c", "id -u > /uid"})
	dst := filepath.Join(t.TempDir(), "uid")
	require.NoError(t, eng.Export(ctx, made.File("/uid"), dst))
	dt, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.Equal(t, "0\n", string(dt))
	fi, err := os.Stat(dst)
	require.NoError(t, err)
	assert.Equal(t, uint32(os.Geteuid()), fi.Sys().(*syscall.Stat_t).Uid) //nolint:forcetypeassert // Linux
	dgst, err := eng.Publish(ctx, made, fmt.Sprintf("%s/lading-test/rootless:%d", reg, time.Now().UnixNano()))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(dgst, "sha256:"), dgst)

	// du and prune, as on the rootful engine.
	out.Reset()
	require.NoError(t, run(ctx, []string{"engine", "du", "-v"}, &out, &errOut), errOut.String())
	assert.Regexp(t, `(?m)^VOLUME\s+SIZE\s+LAST USED\s+MOUNTED AT$`, out.String())
	assert.Regexp(t, `(?m)^`+vol+`\s+20\d\.\d KiB\s+\d+s ago\s+/cache$`, out.String())
	assert.Regexp(t, `(?m)^records:\s+[1-9]\d*$`, out.String())
	require.NoError(t, os.WriteFile(filepath.Join(os.Getenv("HOME"), "du.txt"), out.Bytes(), 0o644))

	out.Reset()
	require.NoError(t, run(ctx, []string{"engine", "prune", "--volume", vol}, &out, &errOut), errOut.String())
	assert.Regexp(t, `removed 1 records, reclaimed 20\d\.\d KiB`, out.String())
	// kill -9 of rootlesskit ends the whole engine, a running step
	// included, and the next Connect starts a new one on the same state.
	home := os.Getenv("HOME") // in the engine's command lines, not in this test's
	ofEngine := func(p procInfo) bool { return p.uid == os.Geteuid() && strings.Contains(p.cmdline, home) }
	nap := strconv.Itoa(300000 + os.Getpid()%10000) // a sleep no other process runs
	sleeping := func(p procInfo) bool { return p.uid == os.Geteuid() && p.cmdline == "sleep "+nap+" " }
	buildErr := make(chan error, 1)
	go func() {
		_, err := eng.Build(ctx, sdk.From("debian:bookworm-slim").WithExec([]string{"sleep", nap}))
		buildErr <- err
	}()
	require.Eventually(t, func() bool { return len(liveProcesses(t, sleeping)) == 1 }, time.Minute, 20*time.Millisecond,
		"the step never started")
	require.NoError(t, syscall.Kill(le.PID, syscall.SIGKILL))
	require.Eventually(t, func() bool { return len(liveProcesses(t, sleeping))+len(liveProcesses(t, ofEngine)) == 0 },
		10*time.Second, 20*time.Millisecond, "processes of the engine outlived kill -9 of rootlesskit")
	require.Error(t, <-buildErr)
	log.Reset()
	again, err := engine.Connect(ctx, engine.WithLogOutput(&log), engine.WithRegistryMirror("docker.io", reg), engine.WithInsecureRegistry(reg))
	require.NoError(t, err, log.String())
	defer again.Close()
	assert.Contains(t, log.String(), "(local engine, started, rootless)")
	le, err = engine.LocalStatus(ctx)
	require.NoError(t, err)
	require.True(t, le.Rootless)

	out.Reset()
	require.NoError(t, run(ctx, []string{"engine", "prune", "--all"}, &out, &errOut), errOut.String())
	assert.Regexp(t, `removed [1-9]\d* records, reclaimed `, out.String())
	out.Reset()
	require.NoError(t, run(ctx, []string{"engine", "du"}, &out, &errOut), errOut.String())
	assert.NotContains(t, out.String(), vol)
	assert.Regexp(t, `(?m)^total:\s+0 B$`, out.String())

	out.Reset()
	require.NoError(t, run(ctx, []string{"engine", "stop"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), fmt.Sprintf("stopped the local engine (pid %d)", le.PID))
	assert.Empty(t, liveProcesses(t, ofEngine), "processes of the engine still running after stop")
}

// rootlessUser is the non-root user the test environment made and named
// in the variable envVar.
func rootlessUser(t *testing.T, envVar string) *user.User {
	t.Helper()
	missing := func(msg string) {
		t.Helper()
		if testenv.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	name := os.Getenv(envVar)
	if name == "" {
		missing(envVar + " is not set: run hack/testenv.sh up and eval \"$(hack/testenv.sh env)\"")
	}
	u, err := user.Lookup(name)
	if err != nil {
		missing(fmt.Sprintf("%s=%s: %v (hack/testenv.sh up creates the user)", envVar, name, err))
	}
	for _, prog := range []string{"setpriv", "rootlesskit", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(prog); err != nil {
			missing(prog + " is not installed: apt-get install rootlesskit uidmap util-linux (hack/testenv.sh up does)")
		}
	}
	return u
}

// shareFile makes src readable by any user at dst: a hard link when both
// are on one file system, else a copy.
func shareFile(t *testing.T, src, dst string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	if err := os.Link(src, dst); err != nil {
		in, err := os.Open(src)
		require.NoError(t, err)
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		require.NoError(t, out.Close())
	}
	fi, err := os.Stat(dst)
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&0o005, "%s is not readable and executable by others", dst)
	return dst
}

// procInfo is one process, from /proc.
type procInfo struct {
	pid, ppid, uid int
	cmdline        string
}

// liveProcesses lists the processes that are not zombies and match keep.
func liveProcesses(t *testing.T, keep func(procInfo) bool) []procInfo {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue // gone meanwhile
		}
		p := procInfo{pid: pid, uid: -1}
		zombie := false
		for line := range strings.SplitSeq(string(status), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			switch {
			case k == "State" && len(f) > 0:
				zombie = f[0] == "Z" || f[0] == "X"
			case k == "PPid" && len(f) > 0:
				p.ppid, _ = strconv.Atoi(f[0])
			case k == "Uid" && len(f) > 0:
				// Real, effective, saved and file system uids: the
				// highest privilege among them is what counts.
				p.uid, _ = strconv.Atoi(f[0])
				for _, x := range f[1:] {
					if n, _ := strconv.Atoi(x); n == 0 {
						p.uid = 0
					}
				}
			}
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		p.cmdline = strings.ReplaceAll(string(cmdline), "\x00", " ")
		if !zombie && keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// descendsFrom matches root and the processes below it.
func descendsFrom(t *testing.T, root int) func(procInfo) bool {
	t.Helper()
	parent := map[int]int{}
	for _, p := range liveProcesses(t, func(procInfo) bool { return true }) {
		parent[p.pid] = p.ppid
	}
	return func(p procInfo) bool {
		for pid, hops := p.pid, 0; pid > 1 && hops < 64; pid, hops = parent[pid], hops+1 {
			if pid == root {
				return true
			}
		}
		return false
	}
}

// lastLines returns the last n lines of s, without the final newline.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// duFields are the column headers and the summary keys of du's output.
func duFields(out string) []string {
	header := regexp.MustCompile(`^[A-Z][A-Z ]+$`)
	key := regexp.MustCompile(`^([a-z]+):`)
	var fields []string
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case header.MatchString(line):
			fields = append(fields, strings.Join(strings.Fields(line), " "))
		case key.MatchString(line):
			fields = append(fields, key.FindStringSubmatch(line)[1])
		}
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}
