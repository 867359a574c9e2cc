package engine

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
	"unicode/utf8"
)

// reportPage is what the report template renders.
type reportPage struct {
	Builds  []reportBuild
	Written time.Time
}

// reportBuild is one build of a report, every string already scrubbed.
type reportBuild struct {
	Title    string
	Engine   string
	Start    time.Time
	Duration time.Duration
	Failed   bool
	Error    string
	Ran      int
	Cached   int
	Steps    []reportStep
	Uploads  []Upload
	Caches   []reportCache
	Warnings []string
	// Skipped says why a build skipped the engine ([WithSkipUnchanged]);
	// Digest is then the image it stands for, Since the build it is
	// unchanged from, and every step's State is "skipped".
	Skipped string
	Digest  string
	Since   time.Time
}

// reportStep is one step of a build's timeline.
type reportStep struct {
	Name, Location, Op, Why, Error string
	State                          string // "ran", "cached", "failed", "source", "skipped"
	Offset, Duration               time.Duration
	// X and W place the step's bar on the timeline, whose width is
	// timelineWidth; the label (the step's name, shortened) is drawn at
	// LabelX, right of the bar or, when the bar ends far right, left of it.
	X, W      float64
	Label     string
	LabelX    float64
	LabelLeft bool
	// LabelInside draws the label inside a bar too wide to leave room
	// on either side of it.
	LabelInside bool
}

// reportCache is one cache volume and its size on the engine.
type reportCache struct {
	ID   string
	Size string // "12.3 MB", or "unknown"
}

// The SVG timeline's width (in its own units) and the height of a bar's row.
const (
	timelineWidth = 1000
	timelineRow   = 18
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur": func(d time.Duration) string {
		switch {
		case d <= 0:
			return "0s"
		case d < time.Second:
			return d.Round(time.Millisecond).String()
		}
		return d.Round(10 * time.Millisecond).String()
	},
	"bytes": formatBytes,
	"files": files,
	"coord": func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"misses": func(steps []reportStep) []reportStep {
		var out []reportStep
		for _, s := range steps {
			if s.State == "ran" || s.State == "failed" {
				out = append(out, s)
			}
		}
		return out
	},
	"rowY":  func(i int) int { return i*timelineRow + 2 },
	"textY": func(i int) int { return i*timelineRow + 14 },
	"svgH":  func(n int) int { return n*timelineRow + 4 },
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") },
}).Parse(reportTemplateText))

// renderReport writes the page. html/template escapes every value for
// its context (text, attribute, SVG).
func renderReport(w io.Writer, p reportPage) error {
	return reportTemplate.Execute(w, p)
}

// newReportBuild lays out one build for the report: offsets and bar
// positions from the steps' start times, every string scrubbed.
func newReportBuild(title, engine string, start time.Time, s Summary, buildErr string, caches []reportCache, scrub *scrubber) reportBuild {
	b := reportBuild{
		Title: scrub.String(title), Engine: scrub.String(engine), Start: start, Duration: s.Duration,
		Failed: buildErr != "", Error: scrub.String(buildErr), Ran: s.Ran, Cached: s.Cached, Caches: caches,
	}
	total := s.Duration
	for _, st := range s.Steps {
		if end := st.Start.Add(st.Duration).Sub(start); !st.Start.IsZero() && end > total {
			total = end
		}
	}
	for _, st := range s.Steps {
		rs := reportStep{
			Name: scrub.String(st.Name), Location: st.Location, Op: st.Op, Why: scrub.String(st.Why),
			Error: scrub.String(st.Error), Duration: st.Duration,
		}
		switch {
		case st.Error != "":
			rs.State = "failed"
			b.Failed = true
		case isSource(st.Op):
			rs.State = "source"
		case st.Cached:
			rs.State = "cached"
		default:
			rs.State = "ran"
		}
		if !st.Start.IsZero() {
			rs.Offset = max(st.Start.Sub(start), 0)
		}
		if total > 0 {
			rs.X = timelineWidth * float64(rs.Offset) / float64(total)
			rs.W = max(timelineWidth*float64(rs.Duration)/float64(total), 2)
			rs.X = min(rs.X, timelineWidth-rs.W)
		}
		rs.Label = shorten(rs.Name, 60)
		placeLabel(&rs)
		b.Steps = append(b.Steps, rs)
	}
	for _, u := range s.Uploads {
		u.Path = scrub.String(u.Path)
		b.Uploads = append(b.Uploads, u)
	}
	for _, w := range s.Warnings {
		b.Warnings = append(b.Warnings, scrub.String(w))
	}
	return b
}

// labelWidth is about the width of one character of a bar's label, in
// the timeline's units (11px text on a timeline drawn about 1,200px wide).
const labelWidth = 6.0

// placeLabel puts a bar's label where it can be read whole: right of the
// bar, else left of it, else inside it (light text), else on the side
// with more room.
func placeLabel(rs *reportStep) {
	w := labelWidth * float64(utf8.RuneCountInString(rs.Label))
	right, left := rs.X+rs.W+4, rs.X-4
	switch {
	case right+w <= timelineWidth:
		rs.LabelX = right
	case left-w >= 0:
		rs.LabelX, rs.LabelLeft = left, true
	case rs.W >= w+8:
		rs.LabelX, rs.LabelInside = rs.X+4, true
	case left > timelineWidth-right:
		rs.LabelX, rs.LabelLeft = left, true
	default:
		rs.LabelX = right
	}
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
