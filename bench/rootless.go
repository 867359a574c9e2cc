package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// The rootless metrics: the local engine started by a non-root user
// (rootless, under rootlesskit) against the same engine started by root,
// both with `lading engine start` on fresh state, and a small build on
// each — a debian:bookworm-slim base, a cache volume and a RUN step —
// cold (the first build of the fresh engine: pull, unpack, run) and
// cached (the same again). Start is StartLocal's own time, as the command
// prints it, so the extra process of setpriv does not count. Needs root,
// the user the test environment makes (LADING_TEST_ROOTLESS_USER) and
// rootlesskit.

const (
	// rootlesskit's namespaces and id mapping add about 0.1 s to a start
	// of 0.1-0.2 s here: the ratio may be up to 3, as long as the start
	// itself stays within the local engine's target (engine-start, 0.5 s).
	rootlessStartTarget  = 3.0 // rootless / root
	rootlessColdTarget   = 1.5
	rootlessCachedTarget = 1.5
)

func runRootless(ctx context.Context, c *config) []Row {
	rows := []Row{
		newRow("rootless-start", Seconds, Ratio, rootlessStartTarget),
		newRow("rootless-start-seconds", Seconds, Absolute, startTarget),
		newRow("rootless-build-cold", Seconds, Ratio, rootlessColdTarget),
		newRow("rootless-build-cached", Seconds, Ratio, rootlessCachedTarget),
	}
	rl, err := newRootlessBench(ctx, c)
	if err != nil {
		return failed(rows, err)
	}
	var start, cold, cached pair
	for i := range c.runs {
		for _, rootless := range []bool{true, false} {
			s, err := rl.sample(ctx, rootless, i)
			if err != nil {
				return failed(rows, err)
			}
			add := func(p *pair, v float64) {
				if rootless {
					p.a = append(p.a, v)
				} else {
					p.b = append(p.b, v)
				}
			}
			add(&start, s.start)
			add(&cold, s.cold)
			add(&cached, s.cached)
			c.logf("rootless run %d/%d (rootless %v): start %s, cold build %s, cached build %s", i+1, c.runs, rootless,
				formatValue(s.start, Seconds), formatValue(s.cold, Seconds), formatValue(s.cached, Seconds))
		}
	}
	rows[0] = start.row("rootless-start", Seconds, Ratio, rootlessStartTarget)
	rows[0].Note = fmt.Sprintf("lading engine start on fresh state as %s (rootless) vs as root; StartLocal's time as printed; rootless %s, root %s",
		rl.user.Username, spread(start.a, Seconds), spread(start.b, Seconds))
	rows[1] = Row{Name: "rootless-start-seconds", Unit: Seconds, Lading: median(start.a), Peer: math.NaN(), Check: Absolute, Target: startTarget,
		Note: "the rootless start alone, against the local engine's start target"}
	rows[2] = cold.row("rootless-build-cold", Seconds, Ratio, rootlessColdTarget)
	rows[2].Note = fmt.Sprintf("first build of the fresh engine (pull debian:bookworm-slim from the local registry, unpack, one RUN step with a cache volume); rootless %s, root %s",
		spread(cold.a, Seconds), spread(cold.b, Seconds))
	rows[3] = cached.row("rootless-build-cached", Seconds, Ratio, rootlessCachedTarget)
	rows[3].Note = fmt.Sprintf("the same build again, every step cached (median of 3 per engine); rootless %s, root %s",
		spread(cached.a, Seconds), spread(cached.b, Seconds))
	return rows
}

// rootlessBench holds what every sample shares: the user, and a
// directory the user can read with the lading command and buildkitd.
type rootlessBench struct {
	c        *config
	user     *user.User
	dir      string
	lading   string
	kit      string
	registry string
}

func newRootlessBench(ctx context.Context, c *config) (*rootlessBench, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the rootless metrics run as root and start the rootless engine as LADING_TEST_ROOTLESS_USER")
	}
	if c.buildkitd == "" {
		return nil, errors.New("no buildkitd binary: run bash hack/testenv.sh up, or pass -buildkitd")
	}
	name := os.Getenv("LADING_TEST_ROOTLESS_USER")
	if name == "" {
		return nil, errors.New("LADING_TEST_ROOTLESS_USER is not set: eval \"$(bash hack/testenv.sh env)\"")
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("LADING_TEST_ROOTLESS_USER: %w", err)
	}
	rl := &rootlessBench{c: c, user: u, dir: filepath.Join(c.work, "rootless"), registry: os.Getenv("LADING_TEST_REGISTRY")}
	if rl.registry == "" {
		rl.registry = "127.0.0.1:5000"
	}
	if err := os.MkdirAll(filepath.Join(rl.dir, "bin"), 0o755); err != nil {
		return nil, err
	}
	// c.work may be private to root: open the path down to rl.dir.
	for d := rl.dir; d != filepath.Dir(c.work); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	rl.lading = filepath.Join(rl.dir, "bin", "lading")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", rl.lading, "github.com/ladingbuild/lading/cmd/lading").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the lading command: %w\n%s", err, out)
	}
	rl.kit = filepath.Join(rl.dir, "bin", "buildkitd")
	if err := copyFile(c.buildkitd, rl.kit); err != nil {
		return nil, err
	}
	return rl, nil
}

// copyFile copies src to dst, executable by anyone.
func copyFile(src, dst string) error {
	dt, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, dt, 0o755)
}

// rootlessSample is one engine's figures, in seconds.
type rootlessSample struct{ start, cold, cached float64 }

// readyRe reads StartLocal's time from `lading engine start`.
var readyRe = regexp.MustCompile(`engine ready at (unix://\S+) \(pid \d+, (\w+), ([^)]+)\)`)

// sample starts a fresh engine (rootless as the user, else as root),
// builds on it cold and cached, and stops it.
func (rl *rootlessBench) sample(ctx context.Context, rootless bool, i int) (rootlessSample, error) {
	home := filepath.Join(rl.dir, fmt.Sprintf("home-%d-%v", i, rootless))
	if err := os.MkdirAll(filepath.Join(home, "tmp"), 0o700); err != nil {
		return rootlessSample{}, err
	}
	defer os.RemoveAll(home)
	env := []string{"HOME=" + home, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "TMPDIR=" + filepath.Join(home, "tmp"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "XDG_RUNTIME_DIR=" + filepath.Join(home, "run"), "LADING_BUILDKITD=" + rl.kit}
	var prefix []string
	if rootless {
		uid, _ := strconv.Atoi(rl.user.Uid)
		gid, _ := strconv.Atoi(rl.user.Gid)
		for _, d := range []string{home, filepath.Join(home, "tmp")} {
			if err := os.Chown(d, uid, gid); err != nil {
				return rootlessSample{}, err
			}
		}
		prefix = []string{"setpriv", "--reuid", rl.user.Uid, "--regid", rl.user.Gid, "--init-groups"}
		env = append(env, "USER="+rl.user.Username)
	} else {
		env = append(env, "USER=root")
	}
	lading := func(args ...string) (string, error) {
		argv := append(append(append([]string(nil), prefix...), rl.lading), args...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env, cmd.Dir = env, home
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		err := cmd.Run()
		if err != nil {
			return "", fmt.Errorf("lading %v (rootless %v): %w\n%s", args, rootless, err, out.String())
		}
		return out.String(), nil
	}
	out, err := lading("engine", "start", "--mirror", "docker.io="+rl.registry, "--insecure-registry", rl.registry)
	if err != nil {
		return rootlessSample{}, err
	}
	defer func() { _, _ = lading("engine", "stop") }()
	m := readyRe.FindStringSubmatch(out)
	if m == nil {
		return rootlessSample{}, fmt.Errorf("lading engine start printed no start time: %q", out)
	}
	if want := map[bool]string{true: "rootless", false: "root"}[rootless]; m[2] != want {
		return rootlessSample{}, fmt.Errorf("lading engine start says %q, want %q", m[2], want)
	}
	var s rootlessSample
	d, err := time.ParseDuration(m[3])
	if err != nil {
		return s, fmt.Errorf("start time %q: %w", m[3], err)
	}
	s.start = d.Seconds()

	eng, err := engine.Connect(ctx, engine.WithAddress(m[1]), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
	if err != nil {
		return s, err
	}
	defer eng.Close()
	build := sdk.From("debian:bookworm-slim").
		WithMountedCache("/cache", sdk.CacheVolume("bench")).
		WithExec([]string{"sh", "-c", "head -c 1000000 /dev/zero > /cache/data; ls -l /cache; echo rootless bench"})
	if s.cold, err = timed(func() error { _, err := eng.Build(ctx, build); return err }); err != nil {
		return s, err
	}
	var cached []float64
	for range 3 {
		v, err := timed(func() error { _, err := eng.Build(ctx, build); return err })
		if err != nil {
			return s, err
		}
		cached = append(cached, v)
	}
	s.cached = median(cached)
	return s, nil
}
