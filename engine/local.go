package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LocalEngine describes the local engine: the buildkitd lading starts and
// reuses on this machine.
type LocalEngine struct {
	// Address is the engine's unix:// address.
	Address string
	// PID is the buildkitd process id; 0 when it is not running.
	PID int
	// Running reports whether the process is alive.
	Running bool
	// Root is buildkitd's state directory ($XDG_CACHE_HOME/lading/engine).
	Root string
	// ConfigFile is the generated buildkitd.toml.
	ConfigFile string
	// LogFile receives buildkitd's output.
	LogFile string
	// Binary is the buildkitd binary started (empty when not known).
	Binary string
	// DiskBudget is the most disk, in bytes, its garbage collector lets the
	// build cache use, as written in ConfigFile when it started (0 when not
	// known). See [WithDiskBudget].
	DiskBudget int64
	// Rootless reports whether it runs rootless: started by a non-root
	// user, under rootlesskit, with no process running as root.
	Rootless bool
	// Source says where the running buildkitd came from (the image and
	// digest it was taken from, or the Go module it was built from); nil
	// when not known. See [WithEngineImage].
	Source *BinarySource
}

// localPaths are the files of the local engine.
type localPaths struct {
	runDir, socket, pidFile, lock string
	cacheDir, root, config, log   string
	binary                        string
	mode                          localMode
}

// localEnginePaths derives the local engine's files from the XDG variables:
// the socket and pid file under $XDG_RUNTIME_DIR/lading (or, unset,
// /run/lading for root and $TMPDIR/lading-UID for another user), state
// under $XDG_CACHE_HOME/lading (or ~/.cache/lading).
func localEnginePaths() localPaths {
	runDir := defaultRunDir()
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		runDir = filepath.Join(d, "lading")
	}
	cacheDir := filepath.Join(defaultCacheHome(), "lading") // rootless_start.go
	return localPaths{
		runDir:   runDir,
		socket:   filepath.Join(runDir, "buildkitd.sock"),
		pidFile:  filepath.Join(runDir, "buildkitd.pid"),
		lock:     filepath.Join(runDir, "start.lock"),
		cacheDir: cacheDir,
		root:     filepath.Join(cacheDir, "engine"),
		config:   filepath.Join(cacheDir, "buildkitd.toml"),
		log:      filepath.Join(cacheDir, "buildkitd.log"),
		binary:   filepath.Join(cacheDir, "bin", "buildkitd"),
	}
}

func (p localPaths) address() string { return "unix://" + p.socket }

// traceSocket is where the engine serves traces to its steps' containers.
func (p localPaths) traceSocket() string {
	return filepath.Join(filepath.Dir(p.socket), "otel-grpc.sock")
}

func (p localPaths) info(pid int, running bool) *LocalEngine {
	return &LocalEngine{
		Address: p.address(), PID: pid, Running: running,
		Root: p.root, ConfigFile: p.config, LogFile: p.log,
		DiskBudget: configuredBudget(p.config),
		Rootless:   running && runsRootless(pid),
		Source:     runningSource(p, pid, running),
	}
}

// LocalStatus reports the local engine's process and files without
// starting it.
func LocalStatus(ctx context.Context) (*LocalEngine, error) {
	p := localEnginePaths()
	pid, alive := readPID(p)
	if !alive {
		pid = 0
	}
	return p.info(pid, alive), nil
}

// StartLocal starts the local engine unless it already runs, and returns it
// once it answers. The buildkitd binary is found on PATH or in lading's
// cache, or taken once from the engine image ([WithEngineImage]), or built
// once from source when no registry serves it. Options for registry
// mirrors and insecure registries go into its buildkitd.toml. It takes the
// local engine options ([WithRegistryMirror], [WithInsecureRegistry],
// [WithBuildkitd], [WithEngineImage], [WithLogOutput], [Silent]); any
// other option is an error naming it and where it belongs.
func StartLocal(ctx context.Context, opts ...Option) (*LocalEngine, error) {
	s, err := applyOptions(atStartLocal, opts)
	if err != nil {
		return nil, err
	}
	return startLocal(ctx, &s)
}

func startLocal(ctx context.Context, s *settings) (*LocalEngine, error) {
	p := localEnginePaths()
	if err := os.MkdirAll(p.runDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w (set XDG_RUNTIME_DIR to a directory of yours)", p.runDir, err)
	}
	if err := checkRunDir(p.runDir); err != nil {
		return nil, err
	}
	unlock, err := lockFile(ctx, p.lock)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if pid, alive := readPID(p); alive {
		// Started earlier (or by a concurrent caller): wait until it answers.
		if err := waitReady(ctx, p, pid, nil, 10*time.Second); err == nil {
			info := p.info(pid, true)
			warnBudgetKept(s, p, info.DiskBudget)
			return info, nil
		}
		return nil, fmt.Errorf("the local engine (pid %d) does not answer on %s; stop it with \"lading engine stop\" (log: %s)", pid, p.address(), p.log)
	}

	if p.mode, err = detectLocalMode(); err != nil {
		return nil, err
	}

	bin, src, err := provideBuildkitd(ctx, s, p) // binary.go
	if err != nil {
		return nil, err
	}

	// A previous engine may have died (kill -9): clear its socket, pid
	// file and the mounts it left under its root.
	os.Remove(p.socket)
	os.Remove(p.pidFile)
	unmountUnder(p.root)

	if err := os.MkdirAll(p.root, 0o711); err != nil {
		return nil, fmt.Errorf("creating %s: %w", p.root, err)
	}
	budget, err := resolveDiskBudget(s, p.root)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.config, []byte(buildkitdConfig(s, p, budget)), 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", p.config, err)
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p.log, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- lading: starting %s at %s\n", bin, time.Now().Format(time.RFC3339))

	cmd := p.mode.command(bin, p)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reap it if it dies while we run
	pid := cmd.Process.Pid
	if err := os.WriteFile(p.pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", p.pidFile, err)
	}
	if err := waitReady(ctx, p, pid, exited, 30*time.Second); err != nil {
		if _, alive := readPID(p); !alive {
			os.Remove(p.pidFile)
		}
		return nil, fmt.Errorf("starting the local engine: %w\n%s", err, logTail(p.log, 15))
	}
	info := p.info(pid, true)
	info.Binary, info.Source = bin, src
	info.Rootless = p.mode.rootless
	return info, nil
}

// waitReady polls the engine's socket until it accepts a connection, the
// process exits, or timeout passes.
func waitReady(ctx context.Context, p localPaths, pid int, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		select {
		case err := <-exited:
			if err == nil { // %w of nil would print %!w(<nil>)
				return fmt.Errorf("buildkitd (pid %d) exited with status 0 before it was ready", pid)
			}
			return fmt.Errorf("buildkitd (pid %d) exited: %w", pid, err)
		default:
		}
		if exited == nil && !processAlive(pid) {
			return fmt.Errorf("buildkitd (pid %d) is gone", pid)
		}
		conn, err := net.DialTimeout("unix", p.socket, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("buildkitd (pid %d) not ready on %s after %s: %w", pid, p.socket, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// StopLocal stops the local engine if it runs: SIGTERM, then SIGKILL after
// ten seconds. Only the process recorded in the pid file is signalled, and
// only if it still is a buildkitd serving lading's socket.
func StopLocal(ctx context.Context) error {
	p := localEnginePaths()
	pid, alive := readPID(p)
	if !alive {
		os.Remove(p.pidFile)
		os.Remove(p.socket)
		return nil
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("finding buildkitd (pid %d): %w", pid, err)
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping buildkitd (pid %d): %w", pid, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			// The loop checks whether it died; a failed signal means it
			// already has.
			_ = proc.Signal(syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for buildkitd (pid %d) to stop: %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	os.Remove(p.pidFile)
	os.Remove(p.socket)
	return nil
}

// readPID returns the recorded pid and whether that process is alive and is
// a buildkitd using lading's socket (guarding against pid reuse).
func readPID(p localPaths) (int, bool) {
	dt, err := os.ReadFile(p.pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(dt)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if !processAlive(pid) {
		return pid, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return pid, false
	}
	args := strings.Split(string(cmdline), "\x00")
	if len(args) == 0 || !isEngineCommand(args[0]) || !slices.Contains(args, p.address()) {
		return pid, false
	}
	return pid, true
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	dt, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the ")" that ends the command name.
	if i := strings.LastIndexByte(string(dt), ')'); i >= 0 && i+2 < len(dt) {
		return dt[i+2] != 'Z'
	}
	return true
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
// A buildkitd killed with SIGKILL can leave container rootfs mounts behind.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	prefix := filepath.Clean(dir) + "/"
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if strings.HasPrefix(mp, prefix) {
			points = append(points, mp)
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, mp := range points {
		// Best effort: a mount that will not go only costs space, and the
		// new engine starts either way.
		_ = syscall.Unmount(mp, syscall.MNT_DETACH)
	}
}

// unescapeMount decodes the octal escapes of /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// buildkitdConfig renders the local engine's buildkitd.toml, with budget
// as the garbage collector's limit.
func buildkitdConfig(s *settings, p localPaths, budget diskBudget) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by lading; rewritten on every start.\nroot = %q\n\n", p.root)
	fmt.Fprintf(&b, "[grpc]\n  address = [%q]\n\n", p.address())
	// BuildKit's default trace socket is one path for every daemon on the
	// host (/run/buildkit/otel-grpc.sock): a second daemon that exits
	// deletes it, and the first one's steps then fail to start. Each engine
	// keeps its own, beside its gRPC socket.
	fmt.Fprintf(&b, "[otel]\n  socketPath = %q\n\n", p.traceSocket())
	b.WriteString(p.mode.workerSection())
	b.WriteString(gcSection(budget))
	b.WriteString("[worker.containerd]\n  enabled = false\n\n")
	for _, sec := range registrySections(s) {
		b.WriteString(sec)
	}
	return b.String()
}

// registrySections renders one buildkitd.toml [registry."host"] section
// per registry the settings name, sorted by host.
func registrySections(s *settings) []string {
	hosts := map[string]bool{}
	for r := range s.mirrors {
		hosts[r] = true
	}
	for _, h := range s.insecure {
		hosts[h] = true
	}
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	slices.Sort(names)
	var out []string
	for _, h := range names {
		var b strings.Builder
		fmt.Fprintf(&b, "[registry.%q]\n", h)
		if m := s.mirrors[h]; len(m) > 0 {
			q := make([]string, len(m))
			for i, x := range m {
				q[i] = strconv.Quote(x)
			}
			fmt.Fprintf(&b, "  mirrors = [%s]\n", strings.Join(q, ", "))
		}
		if slices.Contains(s.insecure, h) {
			b.WriteString("  http = true\n  insecure = true\n")
		}
		b.WriteString("\n")
		out = append(out, b.String())
	}
	return out
}

// logTail returns the last n lines of the file at path, for error messages.
func logTail(path string, n int) string {
	dt, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return "buildkitd log (" + path + "):\n" + tail(string(dt), n)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
