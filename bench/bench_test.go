package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// These tests run the parts of the benchmark that need no daemon: the
// compile metric, the report's formatting and ratios, the progress parser,
// and the checks that the benchmark's graphs are the ones it claims to
// measure. `go run ./bench -quick` (CI) runs the rest.

func TestCompileMetric(t *testing.T) {
	sizes := []int{10, 200, 2000}
	if testing.Short() || raceEnabled {
		sizes = []int{10, 50, 200} // raw llb at 2000 steps takes seconds, much more under -race
	}
	res, err := measureCompile(t.Context(), sizes, 1, 0, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	rows := compileRows(sizes, res)
	if want := 2*len(sizes) + 1; len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	for _, r := range rows {
		if r.Err != nil || r.Lading <= 0 || r.Peer <= 0 || math.IsNaN(r.Lading) || math.IsNaN(r.Peer) {
			t.Errorf("row %s: lading %v, peer %v, err %v", r.Name, r.Lading, r.Peer, r.Err)
		}
	}
	// Every size has a time target against raw llb: small graphs are the
	// common case.
	for _, n := range sizes {
		name := fmt.Sprintf("compile-time-%d", n)
		i := slices.IndexFunc(rows, func(r Row) bool { return r.Name == name })
		if i < 0 {
			t.Errorf("no row %s", name)
			continue
		}
		if r := rows[i]; r.Check != Ratio || r.Target != compileTimeTarget || r.Line() == "" {
			t.Errorf("row %s has no ratio target %v: %+v", name, compileTimeTarget, r)
		}
	}
	last := rows[len(rows)-1]
	if !strings.HasPrefix(last.Name, "compile-scaling-") || last.Check != Absolute || last.Target != compileScalingTarget {
		t.Errorf("last row is %+v, want the scaling row", last)
	}
	var out bytes.Buffer
	WriteTable(&out, rows)
	t.Logf("\n%s", out.String())
	// Allocations are deterministic: the SDK's must grow linearly.
	small, large := res[sizes[len(sizes)-2]].sdk[0].allocs, res[sizes[len(sizes)-1]].sdk[0].allocs
	if f := float64(sizes[len(sizes)-1]) / float64(sizes[len(sizes)-2]); large/small > 1.2*f {
		t.Errorf("SDK allocations grow %.1f× for %.0f× more steps", large/small, f)
	}
}

// The Dockerfile must run the same commands, with the same cache mounts,
// and set the same image config.
func TestDockerfileMatchesGraph(t *testing.T) {
	df := string(multistageDockerfile)
	joined := strings.ReplaceAll(df, "\\\n", " ")
	p := sdktest.PlanOf(graph.Image(graph.Build(sdk.Host("app"), sdk.Proxy{}), "dev"))
	execs := p.Execs()
	if len(execs) != 3 {
		t.Fatalf("%d exec steps, want 3", len(execs))
	}
	runs := regexp.MustCompile(`(?m)^RUN (.*)$`).FindAllStringSubmatch(joined, -1)
	if len(runs) != len(execs) {
		t.Fatalf("the Dockerfile has %d RUN steps, the graph %d exec steps", len(runs), len(execs))
	}
	for i, step := range execs {
		cmd := strings.Join(strings.Fields(runs[i][1]), " ")
		for _, m := range step.Mounts {
			want := "--mount=type=cache,id=" + m.Cache + ",target=" + m.Target
			if !strings.Contains(cmd, want) {
				t.Errorf("RUN %d lacks %s: %s", i+1, want, cmd)
			}
		}
		args := strings.Join(step.Args, " ")
		if cmd = strings.ReplaceAll(cmd, `"`, ""); !strings.HasSuffix(cmd, args) {
			t.Errorf("RUN %d runs %q, the graph %q", i+1, cmd, args)
		}
	}
	img := p.Image()
	for _, want := range []string{
		"USER " + img.User,
		`ENTRYPOINT ["` + strings.Join(img.Entrypoint, `", "`) + `"]`,
		"EXPOSE " + strings.TrimSuffix(img.Ports[0], "/tcp"),
		"COPY --from=build --chmod=0755 /out/hello /usr/local/bin/hello",
		"ENV CGO_ENABLED=0",
		"WORKDIR /src",
		"FROM golang:1.26 AS build",
		"FROM debian:bookworm-slim",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	for k, v := range img.Labels {
		if !strings.Contains(df, k+`="`+v+`"`) {
			t.Errorf("the Dockerfile lacks the label %s=%q", k, v)
		}
	}
}

func TestRowsAndFormatting(t *testing.T) {
	rows := []Row{
		{Name: "build-cold", Unit: Seconds, Lading: 10.2, Peer: 10, Check: Ratio, Target: 1.05},
		{Name: "build-cached", Unit: Seconds, Lading: 0.5, Peer: 0.4, Check: Ratio, Target: 1.1},
		{Name: "engine-start", Unit: Seconds, Lading: 0.21, Peer: 0.2, Check: Absolute, Target: 0.5},
		{Name: "context-retransfer-bytes", Unit: Bytes, Lading: 1e6, Peer: 2e6, Check: Absolute, Target: 1e6, Strict: true},
		{Name: "compile-allocs-10", Unit: Count, Lading: 1740, Peer: 1211},
		{Name: "compile-scaling-2000/200", Unit: Factor, Lading: 9.5, Peer: 67, Check: Absolute, Target: 12},
		{Name: "parallel", Unit: Seconds, Lading: math.NaN(), Peer: math.NaN(), Check: Ratio, Target: 1.3, Err: os.ErrNotExist},
	}
	wantPass := []bool{true, false, true, false, true, true, false}
	wantLines := []string{
		"ratio build-cold 1.02 target 1.05",
		"ratio build-cached 1.25 target 1.1",
		"seconds engine-start 0.21 target 0.5",
		"bytes context-retransfer-bytes 1000000 target 1000000",
		"",
		"ratio compile-scaling-2000/200 9.5 target 12",
		"ratio parallel NaN target 1.3",
	}
	for i, r := range rows {
		if r.Pass() != wantPass[i] {
			t.Errorf("%s: pass %v, want %v", r.Name, r.Pass(), wantPass[i])
		}
		if r.Line() != wantLines[i] {
			t.Errorf("%s: line %q, want %q", r.Name, r.Line(), wantLines[i])
		}
	}
	if AllPass(rows) {
		t.Error("AllPass with failing rows")
	}
	if AllMeasured(rows) || !AllMeasured(rows[:6]) {
		t.Error("AllMeasured is wrong")
	}
	if !AllPass(rows[:1]) {
		t.Error("AllPass fails a passing row")
	}
	var out bytes.Buffer
	WriteTable(&out, rows)
	table := out.String()
	for _, want := range []string{
		"| metric ", "| build-cold ", " 10.2s | ", " 1.02× | ", " ≤ 1.05× | ", " yes |", " **NO** |",
		" 210ms | ", " ≤ 0.5s | ", " 1.00 MB | ", " < 1.00 MB | ", " 1740 | ", " 9.50× | ", " ≤ 12× | ", " ERROR |",
		"- parallel: ERROR: ",
		"\nratio build-cold 1.02 target 1.05\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	// Every table line has the same width.
	var width int
	for _, l := range strings.Split(table, "\n") {
		if !strings.HasPrefix(l, "|") {
			continue
		}
		if n := len([]rune(l)); width == 0 {
			width = n
		} else if n != width {
			t.Errorf("ragged table line (%d runes, want %d): %q", n, width, l)
		}
	}
}

func TestFormatValues(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		u    Unit
		want string
	}{
		{0.000812, Seconds, "812µs"},
		{0.0123, Seconds, "12.3ms"},
		{1.25, Seconds, "1.25s"},
		{312265, Count, "312k"},
		{4220263, Count, "4220k"},
		{12_000_000, Count, "12.0M"},
		{999, Bytes, "999 B"},
		{72509, Bytes, "72.5 kB"},
		{200e6, Bytes, "200 MB"},
		{20.04, Factor, "20.0×"},
		{math.NaN(), Seconds, "–"},
	} {
		if got := formatValue(tc.v, tc.u); got != tc.want {
			t.Errorf("formatValue(%v, %v) = %q, want %q", tc.v, tc.u, got, tc.want)
		}
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
}

func TestInterleave(t *testing.T) {
	var order []string
	p, err := interleave(3,
		func(i int) (float64, error) { order = append(order, "A"); return float64(i), nil },
		func(i int) (float64, error) { order = append(order, "B"); return float64(10 * i), nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ""); got != "ABABAB" {
		t.Errorf("order %s, want ABABAB", got)
	}
	if r := p.row("x", Seconds, Ratio, 1); r.Lading != 1 || r.Peer != 10 {
		t.Errorf("row %+v", r)
	}
}

func TestParseRawJSON(t *testing.T) {
	data := []byte(`{"vertexes":[{"digest":"sha256:aa","name":"[build 3/7] COPY go.mod /src/go.mod","started":"2026-01-01T00:00:00Z"}]}
{"vertexes":[{"digest":"sha256:aa","name":"[build 3/7] COPY go.mod /src/go.mod","cached":true,"completed":"2026-01-01T00:00:01Z"}],"statuses":[{"id":"transferring context:","current":100,"timestamp":"2026-01-01T00:00:00Z"}]}
{"vertexes":[{"digest":"sha256:bb","name":"[build 4/7] RUN go mod download"},{"digest":"sha256:cc","name":"[internal] load build context"}],"statuses":[{"id":"transferring context:","current":2500,"timestamp":"2026-01-01T00:00:01Z"}]}
error: something
`)
	ps, other := parseRawJSON(data)
	if got := ps.transferred("context"); got != 2500 {
		t.Errorf("transferred = %d, want 2500", got)
	}
	if got := ps.transferred("other"); got != -1 {
		t.Errorf("transferred(other) = %d, want -1", got)
	}
	if ran, cached := ps.countDockerfileSteps(); ran != 1 || cached != 1 {
		t.Errorf("steps: %d ran, %d cached; want 1, 1", ran, cached)
	}
	if other != "error: something\n" {
		t.Errorf("other = %q", other)
	}
}

func TestGenerateTree(t *testing.T) {
	spec := treeSpec{files: 250, bytes: 250 * 1000}
	dir := t.TempDir()
	total, err := generateTree(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if total < spec.bytes*9/10 || total > spec.bytes*11/10 {
		t.Errorf("total %d bytes, want about %d", total, spec.bytes)
	}
	var n int
	var sum int64
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n++
		sum += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != spec.files || sum != total {
		t.Errorf("%d files, %d bytes on disk; want %d, %d", n, sum, spec.files, total)
	}
	p, err := changeOneFile(dir, spec, 17, "x")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(p); err != nil || info.Size() != int64(spec.fileSize(17)) {
		t.Errorf("changed file: %v, %v", info, err)
	}
}

func TestFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-only", "nope"}, &stdout, &stderr); code != 2 {
		t.Errorf("-only nope: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "unknown metric") {
		t.Errorf("stderr: %s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"-only", "compile", "-runs", "0"}, &stdout, &stderr); code != 2 {
		t.Errorf("-runs 0: exit %d, want 2", code)
	}
}
