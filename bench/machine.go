package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/ladingbuild/lading/engine"
)

// machine describes where the benchmark ran: cores, CPU model, kernel and
// the engine's BuildKit version.
func machine(ctx context.Context, c *config) string {
	parts := []string{fmt.Sprintf("%d cores", runtime.NumCPU())}
	if m := cpuModel(); m != "" {
		parts = append(parts, m)
	}
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, "Linux "+strings.TrimSpace(string(k)))
	}
	if v := buildkitVersion(ctx, c); v != "" {
		parts = append(parts, "BuildKit "+v)
	}
	parts = append(parts, runtime.Version())
	return strings.Join(parts, ", ")
}

// cpuModel is the "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// buildkitVersion asks the engine for its version, or returns "".
func buildkitVersion(ctx context.Context, c *config) string {
	if c.addr == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.Silent())
	if err != nil {
		return ""
	}
	defer eng.Close()
	st, err := eng.Status(ctx)
	if err != nil {
		return ""
	}
	return st.Version
}
