package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// ProgressMode selects how build progress is displayed.
type ProgressMode string

const (
	// ProgressAuto uses ProgressTTY on a terminal and ProgressPlain elsewhere.
	ProgressAuto ProgressMode = "auto"
	// ProgressTTY redraws a live view of the running steps.
	ProgressTTY ProgressMode = "tty"
	// ProgressPlain prints steps and their output line by line.
	ProgressPlain ProgressMode = "plain"
	// ProgressRawJSON prints BuildKit's status updates as JSON lines.
	ProgressRawJSON ProgressMode = "rawjson"
	// ProgressQuiet prints nothing.
	ProgressQuiet ProgressMode = "quiet"
)

// progressMode resolves the mode: the option, else LADING_PROGRESS, else auto.
func progressMode(m ProgressMode) (ProgressMode, error) {
	if m == "" {
		m = ProgressMode(os.Getenv("LADING_PROGRESS"))
	}
	switch m {
	case "":
		return ProgressAuto, nil
	case ProgressAuto, ProgressTTY, ProgressPlain, ProgressRawJSON, ProgressQuiet:
		return m, nil
	}
	return "", fmt.Errorf("unknown progress mode %q (want auto, tty, plain, rawjson or quiet)", m)
}

// EventKind says what happened to a step.
type EventKind int

const (
	// StepStarted means the step began running.
	StepStarted EventKind = iota + 1
	// StepCached means the step's result came from the cache; it did not run.
	StepCached
	// StepDone means the step ran and succeeded.
	StepDone
	// StepFailed means the step failed; Event.Error says why.
	StepFailed
	// StepLog means the step wrote a line; Event.Line holds it.
	StepLog
)

// String returns the kind's name: "started", "cached", "done", "failed", "log".
func (k EventKind) String() string {
	switch k {
	case StepStarted:
		return "started"
	case StepCached:
		return "cached"
	case StepDone:
		return "done"
	case StepFailed:
		return "failed"
	case StepLog:
		return "log"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Stream says which output a log line came from.
type Stream int

const (
	// StreamStdout is the step's standard output.
	StreamStdout Stream = 1
	// StreamStderr is the step's standard error.
	StreamStderr Stream = 2
)

// Event is one change in a build, delivered to the function given to
// [WithEvents]. Secret values are scrubbed from every field.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// StepID is the compiler's stable identity of the step; empty for the
	// engine's own work (resolving images, exporting).
	StepID string
	// Name is the step's human readable name.
	Name string
	// Location is the Go file:line that created the step, if known.
	Location string
	// Time is when it happened.
	Time time.Time
	// Duration is how long the step ran (StepDone, StepFailed, StepCached).
	Duration time.Duration
	// Stream and Line are the log stream and line of a StepLog event,
	// without the trailing newline.
	Stream Stream
	Line   string
	// Error is the failure message of a StepFailed event.
	Error string
	// Why is, on a StepDone or StepFailed event, why the step ran instead
	// of coming from the cache (as in [StepSummary.Why]).
	Why string
}

// Summary describes a finished build.
type Summary struct {
	// Steps lists the steps in the order they started.
	Steps []StepSummary
	// Ran and Cached count the exec and file steps that ran and the ones
	// served from the cache. Sources (images, host directories, git, http)
	// are listed in Steps but counted in neither: they are resolved or
	// transferred on every build.
	Ran, Cached int
	// Duration is the build's wall time.
	Duration time.Duration
	// Warnings are problems that did not fail the build (a cache that
	// could not be read, say), one line each, secrets scrubbed.
	Warnings []string
	// Uploads says what each host directory sent to the engine.
	Uploads []Upload
	// Skipped is set when the build did not reach the engine because
	// nothing changed since the last successful one ([WithSkipUnchanged]):
	// the reason. Steps is then empty.
	Skipped string
	// Route says which engine of a fleet ran the build, and whether it
	// moved there from one that went away ([WithFleet]); nil otherwise.
	Route *Route
}

// StepSummary is one step of a [Summary].
type StepSummary struct {
	// StepID, Name and Location identify the step as in [Event].
	StepID, Name, Location string
	// Op is the step's operation: "exec", "copy", "newfile", "mkdir",
	// "rm", or a source: "from", "host", "git", "http".
	Op string
	// Cached reports whether the step came from the cache.
	Cached bool
	// Start is when the step started (or was found in the cache).
	Start time.Time
	// Why says why a step that ran was not served from the cache, in
	// words ("env GOFLAGS changed: \"-mod=mod\" → \"\""); empty when it
	// was cached or when there is nothing to compare with.
	Why string
	// Duration is how long the step took.
	Duration time.Duration
	// Error is the step's failure, if any.
	Error string
}

// String renders the summary as a short table.
func (s Summary) String() string {
	var b strings.Builder
	if s.Skipped != "" {
		fmt.Fprintf(&b, "unchanged, skipped in %s: %s\n", s.Duration.Round(time.Millisecond), s.Skipped)
	}
	fmt.Fprintf(&b, "%d steps ran, %d cached, in %s\n", s.Ran, s.Cached, s.Duration.Round(time.Millisecond))
	for _, st := range s.Steps {
		state := "ran"
		if st.Cached {
			state = "cached"
		}
		if st.Error != "" {
			state = "failed"
		}
		fmt.Fprintf(&b, "  %-6s %8s  %s", state, st.Duration.Round(time.Millisecond), st.Name)
		if st.Location != "" {
			fmt.Fprintf(&b, "  (%s)", st.Location)
		}
		b.WriteByte('\n')
		if st.Why != "" {
			fmt.Fprintf(&b, "  %15s why: %s\n", "", st.Why)
		}
	}
	if s.Route != nil {
		fmt.Fprintf(&b, "  %s\n", s.Route)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	return b.String()
}

// tailLines is how many output lines per step are kept for ExecError.
const tailLines = 20

// vertexState is what the monitor knows of one vertex.
type vertexState struct {
	dgst      digest.Digest
	name      string
	started   *time.Time
	completed *time.Time
	cached    bool
	err       string
	order     int
	reported  map[EventKind]bool
	partial   [3][]byte // unterminated output per stream
	tail      []string
	capture   [3]bytes.Buffer
}

// monitor consumes a build's status stream: it scrubs secrets, feeds the
// progress display, emits events, keeps per-step output tails and captures
// the output of one target vertex.
type monitor struct {
	scrub   *scrubber
	events  func(Event)
	display chan *client.SolveStatus

	mu       sync.Mutex
	steps    map[string]lllb.Step
	target   digest.Digest
	vertices map[digest.Digest]*vertexState
	order    int
	explain  *explainer // nil: no explanations (explain.go)
}

func newMonitor(scrub *scrubber, events func(Event)) *monitor {
	return &monitor{scrub: scrub, events: events, vertices: map[digest.Digest]*vertexState{}}
}

// setProgram records the compiled program's steps and the vertex whose
// output is captured.
func (m *monitor) setProgram(steps map[string]lllb.Step, target digest.Digest) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.steps = steps
	m.target = target
}

// run starts the display and consumes ch until it is closed. The returned
// wait function blocks until the display has finished writing.
func (m *monitor) run(ctx context.Context, ch chan *client.SolveStatus, mode ProgressMode, out io.Writer) (wait func(), err error) {
	if out == nil {
		out = io.Discard
	}
	if mode == ProgressQuiet {
		out = io.Discard
	}
	d, err := progressui.NewDisplay(out, progressui.DisplayMode(mode))
	if err != nil {
		// No terminal for tty mode: fall back to plain output.
		d, err = progressui.NewDisplay(out, progressui.PlainMode)
		if err != nil {
			return nil, fmt.Errorf("progress display: %w", err)
		}
	}
	m.display = make(chan *client.SolveStatus, 64)
	displayDone := make(chan struct{})
	go func() {
		defer close(displayDone)
		// The display gets its own context so that it drains the channel
		// and prints the final state even when ctx is cancelled.
		// Its error can only come from writing to out (a closed
		// terminal, say), which must not fail the build. The warnings
		// it returns are dropped: lading does not show BuildKit's
		// warnings yet.
		_, _ = d.UpdateFrom(context.WithoutCancel(ctx), m.display)
		for range m.display {
		}
	}()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for st := range ch {
			if out := m.update(st); out != nil {
				m.display <- out
			}
		}
		if out := m.flushAll(); out != nil {
			m.display <- out
		}
		close(m.display)
	}()
	return func() { <-loopDone; <-displayDone }, nil
}

// update processes one status update and returns its scrubbed copy for the
// display.
func (m *monitor) update(st *client.SolveStatus) *client.SolveStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &client.SolveStatus{}
	var events []Event
	for _, v := range st.Vertexes {
		cv := *v
		cv.Name = m.scrub.String(v.Name)
		cv.Error = m.scrub.String(v.Error)
		out.Vertexes = append(out.Vertexes, &cv)
		vs := m.vertex(v.Digest)
		vs.name = cv.Name
		if v.Started != nil && vs.started == nil {
			t := *v.Started
			vs.started = &t
			m.order++
			vs.order = m.order
		}
		vs.cached = vs.cached || v.Cached
		if v.Completed != nil {
			t := *v.Completed
			vs.completed = &t
			vs.err = cv.Error
			if logs := m.flushVertex(vs); len(logs) > 0 {
				out.Logs = append(out.Logs, logs...)
			}
		}
		events = append(events, m.vertexEvents(vs)...)
	}
	for _, s := range st.Statuses {
		cs := *s
		cs.ID = m.scrub.String(s.ID)
		cs.Name = m.scrub.String(s.Name)
		out.Statuses = append(out.Statuses, &cs)
	}
	for _, l := range st.Logs {
		vs := m.vertex(l.Vertex)
		stream := l.Stream
		if stream < 1 || stream > 2 {
			stream = 2
		}
		data := append(vs.partial[stream], l.Data...)
		i := bytes.LastIndexByte(data, '\n')
		if i < 0 && len(data) < 64<<10 {
			vs.partial[stream] = data
			continue
		}
		var complete []byte
		if i < 0 {
			complete, vs.partial[stream] = data, nil
		} else {
			complete, vs.partial[stream] = data[:i+1], append([]byte(nil), data[i+1:]...)
		}
		cl := *l
		cl.Data = m.scrub.Bytes(complete)
		out.Logs = append(out.Logs, &cl)
		events = append(events, m.logLines(vs, Stream(stream), cl.Data, l.Timestamp)...)
	}
	for _, w := range st.Warnings {
		cw := *w
		cw.Short = m.scrub.Bytes(w.Short)
		cw.Detail = make([][]byte, len(w.Detail))
		for i, d := range w.Detail {
			cw.Detail[i] = m.scrub.Bytes(d)
		}
		out.Warnings = append(out.Warnings, &cw)
	}
	m.emit(events)
	return out
}

// vertex returns the state of dgst, creating it. m.mu is held.
func (m *monitor) vertex(dgst digest.Digest) *vertexState {
	vs, ok := m.vertices[dgst]
	if !ok {
		vs = &vertexState{dgst: dgst, reported: map[EventKind]bool{}}
		m.vertices[dgst] = vs
	}
	return vs
}

// flushVertex turns a vertex's unterminated output into log entries.
// m.mu is held.
func (m *monitor) flushVertex(vs *vertexState) []*client.VertexLog {
	var logs []*client.VertexLog
	for stream := 1; stream <= 2; stream++ {
		if len(vs.partial[stream]) == 0 {
			continue
		}
		data := m.scrub.Bytes(vs.partial[stream])
		vs.partial[stream] = nil
		logs = append(logs, &client.VertexLog{Vertex: vs.dgst, Stream: stream, Data: data, Timestamp: time.Now()})
		m.emit(m.logLines(vs, Stream(stream), data, time.Now()))
	}
	return logs
}

// flushAll flushes every vertex's unterminated output at the end.
func (m *monitor) flushAll() *client.SolveStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var logs []*client.VertexLog
	for _, vs := range m.vertices {
		logs = append(logs, m.flushVertex(vs)...)
	}
	if len(logs) == 0 {
		return nil
	}
	return &client.SolveStatus{Logs: logs}
}

// logLines records scrubbed output of a vertex and returns its log events.
// m.mu is held.
func (m *monitor) logLines(vs *vertexState, stream Stream, data []byte, ts time.Time) []Event {
	if vs.dgst == m.target {
		vs.capture[stream].Write(data)
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" && len(data) == 0 {
		return nil
	}
	var events []Event
	step := m.steps[vs.dgst.String()]
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		vs.tail = append(vs.tail, line)
		if len(vs.tail) > tailLines {
			vs.tail = vs.tail[len(vs.tail)-tailLines:]
		}
		if m.events != nil {
			events = append(events, Event{
				Kind: StepLog, StepID: step.ID, Name: m.stepName(vs), Location: step.Location,
				Time: ts, Stream: stream, Line: line,
			})
		}
	}
	return events
}

// stepName prefers the compiler's name for a vertex. m.mu is held.
func (m *monitor) stepName(vs *vertexState) string {
	if s, ok := m.steps[vs.dgst.String()]; ok && s.Name != "" {
		return m.scrub.String(s.Name)
	}
	return vs.name
}

// vertexEvents returns the not yet reported events of a vertex. m.mu is held.
func (m *monitor) vertexEvents(vs *vertexState) []Event {
	if m.events == nil {
		return nil
	}
	step := m.steps[vs.dgst.String()]
	ev := func(k EventKind, t time.Time) Event {
		e := Event{Kind: k, StepID: step.ID, Name: m.stepName(vs), Location: step.Location, Time: t}
		if k != StepStarted && vs.started != nil && vs.completed != nil {
			e.Duration = vs.completed.Sub(*vs.started)
		}
		return e
	}
	var events []Event
	if vs.started != nil && !vs.reported[StepStarted] && !vs.cached {
		vs.reported[StepStarted] = true
		events = append(events, ev(StepStarted, *vs.started))
	}
	if vs.completed != nil {
		var k EventKind
		switch {
		case vs.err != "":
			k = StepFailed
		case vs.cached:
			k = StepCached
		default:
			k = StepDone
		}
		if !vs.reported[k] {
			vs.reported[k] = true
			e := ev(k, *vs.completed)
			e.Error = vs.err
			e.Why = m.why(step.ID, k != StepCached)
			events = append(events, e)
		}
	}
	return events
}

// emit delivers events to the subscriber. m.mu is held, which keeps the
// events in order.
func (m *monitor) emit(events []Event) {
	if m.events == nil {
		return
	}
	for _, e := range events {
		m.events(e)
	}
}

// tail returns the last output lines of a vertex.
func (m *monitor) tail(dgst digest.Digest) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vs, ok := m.vertices[dgst]; ok {
		return append([]string(nil), vs.tail...)
	}
	return nil
}

// captured returns the target vertex's output on stream.
func (m *monitor) captured(stream Stream) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vs, ok := m.vertices[m.target]; ok {
		return vs.capture[stream].String()
	}
	return ""
}

// summary builds the run's summary.
func (m *monitor) summary(d time.Duration) Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	var vs []*vertexState
	for _, v := range m.vertices {
		if v.started != nil || v.cached {
			vs = append(vs, v)
		}
	}
	slices.SortStableFunc(vs, func(a, b *vertexState) int { return a.order - b.order })
	s := Summary{Duration: d}
	for _, v := range vs {
		step, ok := m.steps[v.dgst.String()]
		if !ok {
			continue // the engine's own work: resolving configs, exporting
		}
		ss := StepSummary{StepID: step.ID, Op: step.Op, Name: m.stepName(v), Location: step.Location, Cached: v.cached, Error: v.err}
		ss.Why = m.why(step.ID, !v.cached && !isSource(step.Op))
		if v.started != nil {
			ss.Start = *v.started
			if v.completed != nil {
				ss.Duration = v.completed.Sub(*v.started)
			}
		}
		switch {
		case isSource(step.Op):
		case v.cached:
			s.Cached++
		default:
			s.Ran++
		}
		s.Steps = append(s.Steps, ss)
	}
	return s
}

// isSource reports whether op only brings inputs in (an image, a host
// directory, a git checkout, a download): such steps are resolved or
// transferred on every build and are neither "ran" nor "cached".
func isSource(op string) bool {
	switch op {
	case "from", "host", "git", "http", "scratch":
		return true
	}
	return false
}

// vertexName returns the display name of a vertex.
func (m *monitor) vertexName(dgst digest.Digest) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if vs, ok := m.vertices[dgst]; ok {
		return m.stepName(vs)
	}
	return ""
}
