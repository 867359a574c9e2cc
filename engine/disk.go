package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/buildkit/client"

	"github.com/ladingbuild/lading/internal/units"
)

// The local engine's default disk budget: a tenth of the filesystem that
// holds its state, at most 10 GiB (the share BuildKit itself reserves by
// default), and at least 1 GiB.
const (
	defaultDiskPercent = 10
	defaultDiskMax     = 10 << 30
	defaultDiskMin     = 1 << 30
)

// WithDiskBudget sets how much disk the local engine's build cache may use:
// a size ("10GB", "512MiB", read in powers of 1024 like docker builder
// prune) or a share of the filesystem holding the engine's state ("15%").
// BuildKit's garbage collector keeps the cache under it: first it drops
// step results and sources, least recently used first, and only then
// cache volumes. Without it, the LADING_ENGINE_DISK environment variable
// is used, else 10% of that filesystem, at most 10 GiB. It applies when
// lading starts the local engine (a running one keeps the budget it
// started with): Connect and StartLocal.
func WithDiskBudget(size string) Option {
	return func(s *settings) {
		s.only("WithDiskBudget", forLocal, "the disk budget is a setting of the local engine, written when it starts")
		if _, err := parseBudget(size); err != nil && s.err == nil {
			s.err = fmt.Errorf("engine.WithDiskBudget(%q): %w", size, err)
			return
		}
		s.disk = size
	}
}

// diskBudget is the resolved budget of the local engine.
type diskBudget struct {
	bytes int64
	// why says where it came from, for the generated config and status.
	why string
}

// budgetSpec is a parsed budget: bytes, or a percentage of the filesystem.
type budgetSpec struct {
	bytes   int64
	percent int64
}

// parseBudget reads "10GB", "1073741824" or "15%".
func parseBudget(text string) (budgetSpec, error) {
	t := strings.TrimSpace(text)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || n <= 0 || n > 100 {
			return budgetSpec{}, fmt.Errorf("disk budget %q: %w: want a share from 1%% to 100%% of the disk, or a size like 10GB", text, units.ErrSyntax)
		}
		return budgetSpec{percent: n}, nil
	}
	n, err := units.ParseSize(t)
	if err != nil {
		return budgetSpec{}, fmt.Errorf("disk budget: %w", err)
	}
	if n <= 0 {
		return budgetSpec{}, fmt.Errorf("disk budget %q: %w: want a size above zero, e.g. 10GB", text, units.ErrSyntax)
	}
	if _, err := strconv.ParseInt(t, 10, 64); err == nil && n < 1<<20 {
		// "20" meant 20GB or 20%, not 20 bytes: a cache that small is
		// emptied after every build.
		return budgetSpec{}, fmt.Errorf("disk budget %q: %w: a number without a unit is bytes, too few for a build cache; write a unit (%sGB) or a share (%s%%)", text, units.ErrSyntax, t, t)
	}
	return budgetSpec{bytes: n}, nil
}

// resolveDiskBudget picks the local engine's budget: the option, else
// LADING_ENGINE_DISK, else the default, with percentages taken of the
// filesystem that holds root.
func resolveDiskBudget(s *settings, root string) (diskBudget, error) {
	text, why := s.disk, "engine.WithDiskBudget"
	if text == "" {
		text, why = os.Getenv("LADING_ENGINE_DISK"), "LADING_ENGINE_DISK"
	}
	if text == "" {
		total, err := filesystemSize(root)
		if err != nil {
			return diskBudget{}, err
		}
		b := min(max(total*defaultDiskPercent/100, defaultDiskMin), defaultDiskMax)
		return diskBudget{bytes: b, why: "the default: 10% of the disk, at most 10 GiB"}, nil
	}
	spec, err := parseBudget(text)
	if err != nil {
		return diskBudget{}, fmt.Errorf("%s=%q: %w", why, text, err)
	}
	if spec.percent == 0 {
		return diskBudget{bytes: spec.bytes, why: why}, nil
	}
	total, err := filesystemSize(root)
	if err != nil {
		return diskBudget{}, err
	}
	return diskBudget{bytes: total * spec.percent / 100, why: fmt.Sprintf("%s: %d%% of the disk", why, spec.percent)}, nil
}

// filesystemSize returns the size of the filesystem holding path, or of its
// nearest existing parent.
func filesystemSize(path string) (int64, error) {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			return int64(st.Blocks) * st.Bsize, nil //nolint:gosec // block counts fit in int64
		}
		if !errors.Is(err, syscall.ENOENT) || p == filepath.Dir(p) {
			return 0, fmt.Errorf("measuring the disk of %s: %w", path, err)
		}
	}
}

// recordCacheMount is the type of the cache records that hold cache
// volumes, as disk usage and gc filters name it.
const recordCacheMount = string(client.UsageRecordTypeCacheMount)

// gcSection renders the garbage collection part of buildkitd.toml's
// [worker.oci] section for budget b. BuildKit runs the policies in order
// after builds (at most once a minute), each until the cache fits:
//
//  1. step results and sources unused for 7 days;
//  2. cache volumes unused for 30 days;
//  3. over budget: step results and sources, least recently used first;
//  4. still over: cache volumes too;
//  5. still over: BuildKit's internal records as well.
//
// So cache volumes, the most expensive to rebuild, outlive everything else.
// Every space rule also leaves 5% of the disk free.
func gcSection(b diskBudget) string {
	size := strconv.Quote(strconv.FormatInt(b.bytes, 10))
	space := "    maxUsedSpace = " + size + "\n    minFreeSpace = \"5%\"\n"
	var w strings.Builder
	fmt.Fprintf(&w, "  # Disk budget: %d bytes (%s).\n", b.bytes, b.why)
	w.WriteString("  gc = true\n\n")
	policy := func(comment, body string) {
		fmt.Fprintf(&w, "  # %s\n  [[worker.oci.gcpolicy]]\n%s\n", comment, body)
	}
	policy("Step results and sources unused for 7 days.",
		"    filters = [\"type!="+recordCacheMount+"\"]\n    keepDuration = \"168h\"\n")
	policy("Cache volumes unused for 30 days.",
		"    filters = [\"type=="+recordCacheMount+"\"]\n    keepDuration = \"720h\"\n")
	policy("Over budget: step results and sources, least recently used first.",
		"    filters = [\"type!="+recordCacheMount+"\"]\n"+space)
	policy("Still over: cache volumes too.", space)
	policy("Still over: BuildKit's internal records as well.", "    all = true\n"+space)
	return w.String()
}

// configuredBudget reads the budget back from the comment gcSection wrote
// in the config file at path; 0 when there is none.
func configuredBudget(path string) int64 {
	dt, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(dt)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# Disk budget: "); ok {
			n, _, _ := strings.Cut(rest, " ")
			if v, err := strconv.ParseInt(n, 10, 64); err == nil {
				return v
			}
		}
	}
	return 0
}

// warnBudgetKept says, when a budget was asked for (by option or
// environment) that differs from the one the running engine started with,
// that the running engine keeps its own: restarting it would cut off the
// builds it is running for others.
func warnBudgetKept(s *settings, p localPaths, running int64) {
	if s.log == nil || (s.disk == "" && os.Getenv("LADING_ENGINE_DISK") == "") {
		return
	}
	want, err := resolveDiskBudget(s, p.root)
	if err != nil || want.bytes == running {
		return
	}
	fmt.Fprintf(s.log, "lading: the running local engine keeps its disk budget of %d bytes; stop it (lading engine stop) to apply %d bytes (%s)\n",
		running, want.bytes, want.why)
}
