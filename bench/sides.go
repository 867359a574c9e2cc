package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// How each side of a daemon comparison is run: lading in process
// (engine.Connect, Build, Close: what a `go run ./ci` program does), the
// peer as a buildctl process (connect, build, exit). Both print BuildKit's
// raw JSON progress, which the benchmark reads for cache hits and
// transferred bytes.

// sideResult is one run of one side.
type sideResult struct {
	seconds float64
	// ran and cached count the build's exec and file steps.
	ran, cached int
	progress    *progressStats
}

// progressStats is what the raw JSON progress stream told.
type progressStats struct {
	vertices map[string]*client.Vertex // by digest, last state
	order    []string
	statuses map[string]int64 // status id -> largest "current"
}

// parseRawJSON reads progressui's rawjson output: one SolveStatus per line.
// Lines that are not JSON (buildctl's own messages) are returned as text.
func parseRawJSON(data []byte) (*progressStats, string) {
	ps := &progressStats{vertices: map[string]*client.Vertex{}, statuses: map[string]int64{}}
	var other strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var st client.SolveStatus
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &st) != nil {
			other.Write(line)
			other.WriteByte('\n')
			continue
		}
		for _, v := range st.Vertexes {
			k := v.Digest.String()
			prev, ok := ps.vertices[k]
			if !ok {
				ps.order = append(ps.order, k)
				cv := *v
				ps.vertices[k] = &cv
				continue
			}
			// Merge: keep the first start, the completion and the cache flag.
			if prev.Started == nil {
				prev.Started = v.Started
			}
			if v.Completed != nil {
				prev.Completed = v.Completed
			}
			prev.Cached = prev.Cached || v.Cached
			if v.Error != "" {
				prev.Error = v.Error
			}
		}
		for _, s := range st.Statuses {
			ps.statuses[s.ID] = max(ps.statuses[s.ID], s.Current)
		}
	}
	return ps, other.String()
}

// transferred returns the bytes the daemon reported receiving for the local
// source name (status "transferring NAME:"), or -1 when it reported none.
func (ps *progressStats) transferred(name string) int64 {
	v, ok := ps.statuses["transferring "+name+":"]
	if !ok {
		return -1
	}
	return v
}

// execSeconds sums the wall time of the exec steps that ran (not cached):
// lading names them "exec …", the Dockerfile frontend "[stage n/m] RUN …".
func (ps *progressStats) execSeconds() float64 {
	var total float64
	for _, k := range ps.order {
		v := ps.vertices[k]
		if v.Cached || v.Started == nil || v.Completed == nil {
			continue
		}
		if strings.HasPrefix(v.Name, "exec ") || dockerfileRun.MatchString(v.Name) {
			total += v.Completed.Sub(*v.Started).Seconds()
		}
	}
	return total
}

var dockerfileRun = regexp.MustCompile(`^\[[^\]]*\d+/\d+\] RUN `)

// dockerfileStep matches the Dockerfile frontend's names for the steps of
// a stage that run or come from the cache ("[build 4/8] RUN …").
var dockerfileStep = regexp.MustCompile(`^\[[^\]]*\d+/\d+\] (RUN|COPY|ADD|WORKDIR) `)

// countDockerfileSteps counts the Dockerfile steps that ran and the ones
// served from the cache.
func (ps *progressStats) countDockerfileSteps() (ran, cached int) {
	for _, k := range ps.order {
		v := ps.vertices[k]
		if !dockerfileStep.MatchString(v.Name) {
			continue
		}
		if v.Cached {
			cached++
		} else {
			ran++
		}
	}
	return ran, cached
}

// runLading connects to the engine, builds v and closes the connection,
// timing all three.
func runLading(ctx context.Context, c *config, v sdk.Value) (sideResult, error) {
	var buf bytes.Buffer
	var res *engine.Result
	secs, err := timed(func() error {
		eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.Silent(),
			engine.WithProgress(engine.ProgressRawJSON), engine.WithProgressOutput(&buf))
		if err != nil {
			return err
		}
		defer eng.Close()
		res, err = eng.Build(ctx, v)
		return err
	})
	if err != nil {
		return sideResult{}, fmt.Errorf("lading: %w", err)
	}
	ps, _ := parseRawJSON(buf.Bytes())
	return sideResult{seconds: secs, ran: res.Summary.Ran, cached: res.Summary.Cached, progress: ps}, nil
}

// runBuildctl runs `buildctl --addr ADDR build --progress rawjson ARGS…`
// with stdin (an LLB definition, or nothing), timing the process.
func runBuildctl(ctx context.Context, c *config, stdin []byte, args ...string) (sideResult, error) {
	if err := c.needBuildctl(); err != nil {
		return sideResult{}, err
	}
	argv := append([]string{"--addr", c.addr, "build", "--progress", "rawjson"}, args...)
	cmd := exec.CommandContext(ctx, c.buildctl, argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = 5 * time.Second
	secs, err := timed(cmd.Run)
	ps, other := parseRawJSON(stderr.Bytes())
	if err != nil {
		return sideResult{}, fmt.Errorf("buildctl %s: %w\n%s", strings.Join(argv, " "), err, tailLines(other, 15))
	}
	ran, cached := ps.countDockerfileSteps()
	return sideResult{seconds: secs, ran: ran, cached: cached, progress: ps}, nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
