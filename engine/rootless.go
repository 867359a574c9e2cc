package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// RootlessError says why the local engine cannot start rootless for a
// non-root user: what is missing on this machine and how to fix it.
// [StartLocal] returns it, and [Connect]'s error wraps it (together with
// [ErrNoEngine]); get it with errors.As.
type RootlessError struct {
	// Missing names what is missing: a program, an /etc/subuid range, a
	// kernel setting.
	Missing string
	// Fix is what to do about it: the package to install, the line to
	// add, the sysctl to set.
	Fix string
}

// Error names the missing piece and its fix.
func (e *RootlessError) Error() string {
	return "the local engine runs rootless for a non-root user (uid " + strconv.Itoa(os.Geteuid()) + ") and " +
		e.Missing + ": " + e.Fix + "; or set BUILDKIT_HOST to a running buildkitd"
}

// localMode is how the local engine runs: as root with runc, or, for a
// non-root user, rootless in a user namespace that rootlesskit sets up.
// The zero value is the engine as root.
type localMode struct {
	rootless    bool
	rootlesskit string // the rootlesskit binary (rootless only)
	runc        string // the OCI runtime buildkitd runs steps with
	snapshotter string // "" means overlayfs
}

// hostView is what the rootless checks read: the files of the machine
// below root ("/" for the real one) and its programs. Tests point it at
// a directory of their own.
type hostView struct {
	root     string
	uid      int
	name     string
	lookPath func(string) (string, error)
	kernel   string // release, e.g. "6.1.0-28-amd64"
}

// thisHost is the machine lading runs on.
func thisHost() hostView {
	h := hostView{root: "/", uid: os.Geteuid(), lookPath: lookPathOrSbin}
	if u, err := user.LookupId(strconv.Itoa(h.uid)); err == nil {
		h.name = u.Username
	}
	var un syscall.Utsname
	if err := syscall.Uname(&un); err == nil {
		var b strings.Builder
		for _, c := range un.Release {
			if c == 0 {
				break
			}
			b.WriteByte(byte(c))
		}
		h.kernel = b.String()
	}
	return h
}

// lookPathOrSbin finds a program on PATH, then in the sbin directories
// that a non-root user's PATH often lacks (Debian puts runc there).
func lookPathOrSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// detectLocalMode chooses how the local engine runs on this machine: as
// root when lading is root, else rootless. It returns a [*RootlessError]
// (or, for root, an error naming runc) when a piece is missing.
func detectLocalMode() (localMode, error) {
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("runc"); err != nil {
			return localMode{}, errors.New("starting the local engine needs runc on PATH: install it (apt-get install runc), " +
				"or set BUILDKIT_HOST to a running buildkitd")
		}
		return localMode{}, nil
	}
	return thisHost().rootlessMode()
}

// rootlessMode checks, in the order a user would fix them, what a
// rootless engine needs: rootlesskit, newuidmap/newgidmap, subordinate
// id ranges, user namespaces the kernel allows, and runc.
func (h hostView) rootlessMode() (localMode, error) {
	m := localMode{rootless: true}
	var err error
	if m.rootlesskit, err = h.lookPath("rootlesskit"); err != nil {
		return m, &RootlessError{Missing: "rootlesskit is not installed",
			Fix: "install it as root: apt-get install rootlesskit uidmap (Debian 12 and later, Ubuntu 22.04 and later)"}
	}
	for _, prog := range []string{"newuidmap", "newgidmap"} {
		path, err := h.lookPath(prog)
		if err != nil {
			return m, &RootlessError{Missing: prog + " is not installed",
				Fix: "install it as root: apt-get install uidmap"}
		}
		if !h.privileged(path) {
			return m, &RootlessError{Missing: path + " is neither setuid root nor given capabilities, so it cannot map the ids",
				Fix: "as root, reinstall it (apt-get install --reinstall uidmap) or run chmod u+s " + path}
		}
	}
	for _, file := range []string{"/etc/subuid", "/etc/subgid"} {
		if err := h.checkSubIDs(file); err != nil {
			return m, err
		}
	}
	if err := h.checkUserNamespaces(); err != nil {
		return m, err
	}
	if m.runc, err = h.lookPath("runc"); err != nil {
		return m, &RootlessError{Missing: "runc is not installed",
			Fix: "install it as root: apt-get install runc"}
	}
	m.snapshotter = h.rootlessSnapshotter()
	return m, nil
}

// privileged reports whether the program at path may map ids for the
// user: it is setuid, or has file capabilities (some distributions give
// newuidmap CAP_SETUID instead). A file that cannot be examined counts
// as privileged: rootlesskit's own error will say more.
func (h hostView) privileged(path string) bool {
	full := filepath.Join(h.root, path)
	fi, err := os.Stat(full)
	if err != nil {
		return true
	}
	if fi.Mode()&os.ModeSetuid != 0 {
		return true
	}
	_, err = syscall.Getxattr(full, "security.capability", nil)
	return err == nil
}

// checkSubIDs checks that file (/etc/subuid or /etc/subgid) gives the
// user a range of subordinate ids, which newuidmap/newgidmap map into the
// engine's user namespace.
func (h hostView) checkSubIDs(file string) error {
	dt, err := os.ReadFile(filepath.Join(h.root, file))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	end := int64(100000)
	sc := bufio.NewScanner(bytes.NewReader(dt))
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) != 3 {
			continue
		}
		start, err1 := strconv.ParseInt(f[1], 10, 64)
		count, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if (f[0] == h.name && h.name != "") || f[0] == strconv.Itoa(h.uid) {
			if count >= 65536 {
				return nil
			}
			return &RootlessError{
				Missing: fmt.Sprintf("%s gives %s only %d subordinate ids (line %q)", file, h.who(), count, sc.Text()),
				Fix:     fmt.Sprintf("as root, make its range 65536 ids long, e.g. %q, after checking it overlaps no other user's range", h.subIDLine(start)),
			}
		}
		end = max(end, start+count)
	}
	flag := "--add-subuids"
	if strings.HasSuffix(file, "subgid") {
		flag = "--add-subgids"
	}
	return &RootlessError{
		Missing: fmt.Sprintf("%s has no range of subordinate ids for %s", file, h.who()),
		Fix: fmt.Sprintf("as root, add the line %q to %s (usermod %s %d-%d %s)",
			h.subIDLine(end), file, flag, end, end+65535, h.who()),
	}
}

// who names the user for messages and /etc/subuid lines.
func (h hostView) who() string {
	if h.name != "" {
		return h.name
	}
	return strconv.Itoa(h.uid)
}

// subIDLine is an /etc/subuid line giving the user 65536 ids from start.
func (h hostView) subIDLine(start int64) string {
	return fmt.Sprintf("%s:%d:65536", h.who(), start)
}

// checkUserNamespaces checks the kernel settings that forbid user
// namespaces to non-root users.
func (h hostView) checkUserNamespaces() error {
	for _, c := range []struct {
		file, bad, setting string
	}{
		// Debian 10 and older kernels.
		{"/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=1"},
		{"/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=28633"},
		// Ubuntu 24.04 and later.
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "kernel.apparmor_restrict_unprivileged_userns=0"},
	} {
		dt, err := os.ReadFile(filepath.Join(h.root, c.file))
		if err != nil || strings.TrimSpace(string(dt)) != c.bad {
			continue
		}
		return &RootlessError{
			Missing: fmt.Sprintf("the kernel does not let non-root users create user namespaces (%s is %s)", c.file, c.bad),
			Fix: fmt.Sprintf("as root, run sysctl -w %s and add the line %q to /etc/sysctl.d/99-rootless.conf to keep it",
				c.setting, c.setting),
		}
	}
	return nil
}

// rootlessSnapshotter picks the snapshotter a rootless engine can use:
// overlayfs in a user namespace needs Linux 5.11; before that,
// fuse-overlayfs when installed, else native (copies, slower).
func (h hostView) rootlessSnapshotter() string {
	major, minor := kernelVersion(h.kernel)
	if major > 5 || (major == 5 && minor >= 11) {
		return "overlayfs"
	}
	if _, err := h.lookPath("fuse-overlayfs"); err == nil {
		return "fuse-overlayfs"
	}
	return "native"
}

// kernelVersion parses the major and minor numbers of a kernel release.
func kernelVersion(release string) (major, minor int) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, _ = strconv.Atoi(parts[0])
	minor, _ = strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor
}
