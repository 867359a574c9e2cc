package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// config is what every metric needs to know about the run.
type config struct {
	quick bool
	runs  int

	addr       string          // the engine's address ("" when none was found)
	addrFrom   string          // where addr came from, for the report
	buildctl   string          // buildctl binary
	buildkitd  string          // buildkitd binary, for the start metric
	allowPrune bool            // the build metric may prune the engine's cache
	ownEngine  bool            // the engine is the benchmark's own (-own-engine)
	locals     map[string]bool // local sources to remove at the end (cleanup.go)
	app        string          // examples/multistage/app
	work       string          // temporary directory, removed at the end
	log        io.Writer
}

func (c *config) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "bench: "+format+"\n", args...)
}

// metric is one part of the suite.
type metric struct {
	name string
	run  func(ctx context.Context, c *config) []Row
}

var metrics = []metric{
	{"compile", runCompile},
	{"build", runBuild},
	{"context", runContext},
	{"start", runStart},
	{"parallel", runParallel},
	{"process", runProcess},
	{"report", runRunReport},
	{"explain", runExplain},
	{"guard", runGuard},
	{"runner", runRunner},
	{"attest", runAttest},
	{"service-start", runServiceStart},
	{"bundle", runBundle},
	{"rootless", runRootless},
	{"engine-first-start", runFirstStart},
	{"fleet-route", runFleetRoute},
	{"docker-load", runDockerLoad}, // docker.go
}

func metricNames() []string {
	var names []string
	for _, m := range metrics {
		names = append(names, m.name)
	}
	return names
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "few runs and small sizes (CI smoke mode; about a minute on a warm engine)")
	runs := fs.Int("runs", 5, "runs per side; every figure is the median (default 3 with -quick)")
	check := fs.Bool("check", false, "exit non-zero when a target is missed (a failed metric always does)")
	only := fs.String("only", "", "comma-separated metrics to run ("+strings.Join(metricNames(), ", ")+")")
	addr := fs.String("addr", "", "engine address (default: BUILDKIT_HOST, else the test environment's buildkitd)")
	buildctl := fs.String("buildctl", "", "buildctl binary (default: the test environment's, else PATH)")
	buildkitd := fs.String("buildkitd", "", "buildkitd binary for the start metric (default: the test environment's, else PATH)")
	allowPrune := fs.Bool("allow-prune", false, "prune the engine's whole build cache before each cold build (never do this on a shared engine)")
	ownEngine := fs.Bool("own-engine", false, "start a private local engine in a temporary directory for the daemon metrics (pruned freely, removed at the end)")
	app := fs.String("app", "", "the multistage example's Go service (default: examples/multistage/app)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the benchmark process to this file (go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\nCompares lading with raw llb, buildctl and buildkitd; see docs/performance.md.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	runsSet := false
	fs.Visit(func(f *flag.Flag) { runsSet = runsSet || f.Name == "runs" })
	c := &config{quick: *quick, runs: *runs, allowPrune: *allowPrune, log: stderr}
	if c.quick && !runsSet {
		c.runs = 3
	}
	if c.runs < 1 {
		fmt.Fprintln(stderr, "bench: -runs must be at least 1")
		return 2
	}
	selected := metrics
	if *only != "" {
		selected = nil
		for _, name := range strings.Split(*only, ",") {
			name = strings.TrimSpace(name)
			i := slices.IndexFunc(metrics, func(m metric) bool { return m.name == name })
			if i < 0 {
				fmt.Fprintf(stderr, "bench: unknown metric %q (want %s)\n", name, strings.Join(metricNames(), ", "))
				return 2
			}
			selected = append(selected, metrics[i])
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	work, err := os.MkdirTemp("", "lading-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer os.RemoveAll(work)
	c.work = work
	c.buildctl = findBinary(*buildctl, "buildctl")
	c.buildkitd = findBinary(*buildkitd, "buildkitd")
	c.app = findApp(*app)
	c.addr, c.addrFrom = findEngine(*addr)
	if *ownEngine {
		own, err := startOwnEngine(ctx, c)
		if err != nil {
			fmt.Fprintln(stderr, "bench: starting a private engine:", err)
			return 1
		}
		defer own.stop(c)
		c.ownEngine = true
	}
	defer c.cleanupLocals(ctx)
	c.logf("engine %s (%s), buildctl %s, %d runs per side%s", orNone(c.addr), c.addrFrom, orNone(c.buildctl), c.runs, map[bool]string{true: ", quick", false: ""}[c.quick])

	start := time.Now()
	var rows []Row
	for _, m := range selected {
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		c.logf("== %s", m.name)
		rs := m.run(ctx, c)
		c.logf("== %s done in %s", m.name, time.Since(t0).Round(time.Millisecond))
		WriteLines(stderr, rs)
		rows = append(rows, rs...)
	}
	fmt.Fprintf(stdout, "lading benchmarks: %d runs per side, medians%s, %s, in %s\n\n", c.runs,
		map[bool]string{true: ", quick mode", false: ""}[c.quick], machine(ctx, c), time.Since(start).Round(time.Second))
	WriteTable(stdout, rows)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: interrupted")
		return 1
	}
	// A metric that could not be measured always fails the run, so that
	// CI's smoke run (-quick) catches a benchmark that rotted; -check
	// also fails on missed targets.
	if !AllMeasured(rows) {
		fmt.Fprintln(stderr, "bench: some metrics failed")
		return 1
	}
	if *check && !AllPass(rows) {
		fmt.Fprintln(stderr, "bench: some targets were missed")
		return 1
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// testenvBin is where hack/testenv.sh keeps buildkitd and buildctl.
func testenvBin() string {
	if d := os.Getenv("LADING_TESTENV_CACHE"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "lading-testenv", "bin")
}

// testenvSocket is the test environment's buildkitd socket.
func testenvSocket() string {
	if d := os.Getenv("LADING_TESTENV_STATE"); d != "" {
		return filepath.Join(d, "buildkitd.sock")
	}
	return "/run/lading-testenv/buildkitd.sock"
}

// findBinary returns the flag's value, else the test environment's binary,
// else the one on PATH, else "".
func findBinary(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := filepath.Join(testenvBin(), name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// findEngine returns the engine address: the flag, BUILDKIT_HOST, else the
// test environment's socket when it exists.
func findEngine(flagValue string) (addr, from string) {
	if flagValue != "" {
		return flagValue, "-addr"
	}
	if v := os.Getenv("BUILDKIT_HOST"); v != "" {
		return v, "BUILDKIT_HOST"
	}
	if st, err := os.Stat(testenvSocket()); err == nil && st.Mode()&os.ModeSocket != 0 {
		return "unix://" + testenvSocket(), "test environment"
	}
	return "", "no engine: set BUILDKIT_HOST or run bash hack/testenv.sh up"
}

// findApp locates the multistage example's service: the flag, else
// examples/multistage/app from the working directory or beside this
// source file.
func findApp(flagValue string) string {
	if flagValue != "" {
		abs, _ := filepath.Abs(flagValue)
		return abs
	}
	candidates := []string{"examples/multistage/app", "../examples/multistage/app"}
	if _, file, _, ok := runtime.Caller(0); ok {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "examples", "multistage", "app"))
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	return ""
}

// needEngine returns an error when the daemon metrics cannot run.
func (c *config) needEngine() error {
	if c.addr == "" {
		return errors.New("no engine: set BUILDKIT_HOST (eval \"$(bash hack/testenv.sh env)\"), pass -addr, or use -own-engine")
	}
	return nil
}

func (c *config) needBuildctl() error {
	if c.buildctl == "" {
		return errors.New("no buildctl binary: run bash hack/testenv.sh up, or pass -buildctl")
	}
	return nil
}

// failed marks every row without a value as failed with err.
func failed(rows []Row, err error) []Row {
	for i := range rows {
		if rows[i].Err == nil && (isNaN(rows[i].Lading) || (rows[i].Check == Ratio && isNaN(rows[i].Peer))) {
			rows[i].Err = err
		}
	}
	return rows
}
