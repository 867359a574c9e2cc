package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// reportOverheadTarget bounds what writing the HTML run report (and
// counting the uploads, always on) costs a fully cached build.
const reportOverheadTarget = 1.05

// runRunReport measures the run report's cost: the built
// examples/multistage program's cached build target with LADING_REPORT
// set, against the same without it, as whole processes, interleaved pairs.
func runRunReport(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("report-overhead", Seconds, Ratio, reportOverheadTarget)}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	m, err := newMultistage(c)
	if err != nil {
		return failed(rows, err)
	}
	bin, err := buildExample(ctx, c.work)
	if err != nil {
		return failed(rows, err)
	}
	dir, err := m.context("")
	if err != nil {
		return failed(rows, err)
	}
	defer os.RemoveAll(dir)
	if name, err := ladingLocalName(ctx, dir); err == nil {
		c.ownLocal(name)
	}
	report := filepath.Join(c.work, "run.html")
	with := func() (sideResult, error) { return runProgramEnv(ctx, c, bin, dir, "LADING_REPORT="+report) }
	without := func() (sideResult, error) { return runProgramEnv(ctx, c, bin, dir) }
	for range 2 {
		if _, err := with(); err != nil {
			return failed(rows, err)
		}
		if _, err := without(); err != nil {
			return failed(rows, err)
		}
	}
	if st, err := os.Stat(report); err != nil {
		return failed(rows, fmt.Errorf("LADING_REPORT=%s wrote no report: %w", report, err))
	} else if st.Size() == 0 {
		return failed(rows, fmt.Errorf("LADING_REPORT=%s wrote an empty report", report))
	}
	n := processRunsPerRun * c.runs
	p, err := pairedAlternating(n, cachedSide("with report", with), cachedSide("without", without))
	if err != nil {
		return failed(rows, err)
	}
	rows[0] = p.row("report-overhead", Seconds, Ratio, reportOverheadTarget)
	rows[0].Note = fmt.Sprintf("the built examples/multistage program (build target, every step cached) with LADING_REPORT=FILE.html vs without, "+
		"whole processes, same engine and context; %d interleaved pairs, medians; with %s, without %s", n, spread(p.a, Seconds), spread(p.b, Seconds))
	return rows
}

// runProgramEnv is runProgram with extra environment variables.
func runProgramEnv(ctx context.Context, c *config, bin, dir string, env ...string) (sideResult, error) {
	cmd := exec.CommandContext(ctx, bin, "-src", dir, "build")
	cmd.Env = append(append(withoutVars(os.Environ(), slices.Concat(caBundleVars, []string{"LADING_REPORT", "OTEL_EXPORTER_OTLP_ENDPOINT"})...),
		"BUILDKIT_HOST="+c.addr, "LADING_PROGRESS=rawjson"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	secs, err := timed(cmd.Run)
	ps, other := parseRawJSON(stderr.Bytes())
	if err != nil {
		return sideResult{}, fmt.Errorf("%s -src %s build: %w\n%s", bin, dir, err, tailLines(other, 15))
	}
	ran, cached := ps.countLadingSteps()
	return sideResult{seconds: secs, ran: ran, cached: cached, progress: ps}, nil
}
