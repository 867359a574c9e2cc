package engine

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// workerSection renders buildkitd.toml's [worker.oci] head for the mode.
// As root it is runc with overlayfs; rootless adds BuildKit's rootless
// flag (steps get the user namespace's ids, no cgroup limits) and names
// runc by its path, since a non-root PATH often lacks /usr/sbin.
func (m localMode) workerSection() string {
	if !m.rootless {
		return "[worker.oci]\n  enabled = true\n  snapshotter = \"overlayfs\"\n  binary = \"runc\"\n"
	}
	return fmt.Sprintf("[worker.oci]\n  enabled = true\n  snapshotter = %q\n  binary = %q\n  rootless = true\n",
		m.snapshotterName(), m.runc)
}

func (m localMode) snapshotterName() string {
	if m.snapshotter == "" {
		return "overlayfs"
	}
	return m.snapshotter
}

// command returns the process that runs buildkitd bin for the mode. The
// rootless engine runs under rootlesskit: a user namespace mapping the
// user to root and /etc/subuid's range to the other ids, its own mount
// and pid namespaces (so stopping rootlesskit ends every process of the
// engine, steps included), and the host's network, so that registries
// and proxies on loopback stay reachable.
func (m localMode) command(bin string, p localPaths) *exec.Cmd {
	args := []string{
		"--config", p.config,
		"--root", p.root,
		"--addr", p.address(),
		"--oci-worker=true",
		"--oci-worker-snapshotter=" + m.snapshotterName(),
		"--containerd-worker=false",
	}
	if !m.rootless {
		return exec.Command(bin, append(args, "--oci-worker-binary=runc")...)
	}
	kit := []string{
		"--net=host", "--port-driver=none", "--pidns",
		"--state-dir=" + filepath.Join(p.runDir, "rootlesskit"),
		bin, "--rootless", "--oci-worker-binary=" + m.runc,
	}
	cmd := exec.Command(m.rootlesskit, append(kit, args...)...)
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		// runc keeps its state in $XDG_RUNTIME_DIR/runc, else in
		// /run/runc, which a non-root user cannot write: every step
		// would fail with "lstat /run/runc/…: permission denied".
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+p.runDir)
	}
	// rootlesskit refuses a state directory that is left from an engine
	// that was killed.
	os.RemoveAll(filepath.Join(p.runDir, "rootlesskit"))
	return cmd
}

// defaultRunDir is where the local engine's socket lives without
// XDG_RUNTIME_DIR: /run/lading for root, and for another user a directory
// of their own in the temporary directory ($TMPDIR/lading-UID).
func defaultRunDir() string {
	uid := os.Geteuid()
	if uid == 0 {
		return "/run/lading"
	}
	return filepath.Join(os.TempDir(), "lading-"+strconv.Itoa(uid))
}

// defaultCacheHome is the directory the local engine's cache directory
// goes in: XDG_CACHE_HOME, else ~/.cache from HOME, else from the user's
// home directory in the password database (HOME is often unset in
// services and over runuser or sudo -u), else a directory of the user's
// own under the temporary directory (beside the run directory there,
// whose owner the start checks) — never one that two users share.
func defaultCacheHome() string {
	if c := os.Getenv("XDG_CACHE_HOME"); c != "" {
		return c
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache")
	}
	if u, err := user.Current(); err == nil && u.HomeDir != "" && u.HomeDir != "/" {
		if fi, err := os.Stat(u.HomeDir); err == nil && fi.IsDir() && ownedBy(fi, os.Geteuid()) {
			return filepath.Join(u.HomeDir, ".cache")
		}
	}
	return filepath.Join(os.TempDir(), "lading-"+strconv.Itoa(os.Geteuid()), "cache")
}

// checkRunDir refuses a run directory that another user owns or may
// write to: whoever controls it controls the engine's socket.
func checkRunDir(dir string) error {
	uid := os.Geteuid()
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !ownedBy(fi, uid) || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the local engine's directory %s is not yours alone (owner or mode %s): "+
			"remove it, or set XDG_RUNTIME_DIR to a directory only you can write", dir, fi.Mode().Perm())
	}
	// The longest socket path below it: the engine's (and its traces'),
	// or the rootless engine's rootlesskit API socket.
	longest := "buildkitd.sock"
	if uid != 0 {
		longest = filepath.Join("rootlesskit", "api.sock")
	}
	if sock := filepath.Join(dir, longest); len(sock) > maxSocketPath {
		return fmt.Errorf("the local engine's directory %s is too deep for its sockets (%s is %d bytes; a unix socket's path "+
			"may have %d): set XDG_RUNTIME_DIR to a shorter directory of yours (/run/user/%d, say)", dir, sock, len(sock), maxSocketPath, uid)
	}
	return nil
}

// maxSocketPath is the longest unix socket path buildkitd accepts (the
// sun_path of the BSDs; Linux allows 107).
const maxSocketPath = 104

func ownedBy(fi os.FileInfo, uid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == uid
}

// isEngineCommand reports whether argv0 is a local engine's process:
// buildkitd, or the rootlesskit that runs a rootless one.
func isEngineCommand(argv0 string) bool {
	base := filepath.Base(argv0)
	return strings.Contains(base, "buildkitd") || base == "rootlesskit"
}

// runsRootless reports whether the engine process pid is a rootless one
// (rootlesskit running buildkitd).
func runsRootless(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	return filepath.Base(argv0) == "rootlesskit"
}

// modeNote is what the log line of Connect adds for a rootless local
// engine.
func modeNote(origin Origin, addr string) string {
	if origin != OriginLocal && origin != OriginStarted {
		return ""
	}
	p := localEnginePaths()
	if addr != p.address() {
		return ""
	}
	if pid, alive := readPID(p); alive && runsRootless(pid) {
		return ", rootless"
	}
	return ""
}
