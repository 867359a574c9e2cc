package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Unit says how a measured quantity is printed.
type Unit int

const (
	// Seconds are wall times, stored in seconds.
	Seconds Unit = iota
	// Count is a plain number (allocations).
	Count
	// Bytes are sizes in bytes.
	Bytes
	// Factor is a dimensionless multiple (a scaling factor), printed "8.1×".
	Factor
)

// Check says which number of a row its target applies to.
type Check int

const (
	// Info rows have no target.
	Info Check = iota
	// Ratio compares lading / peer with the target: pass when ≤ target.
	Ratio
	// Absolute compares lading's own value with the target: pass when ≤
	// target, or < target when the row is Strict.
	Absolute
)

// Row is one line of the report.
type Row struct {
	// Name identifies the row in the machine-readable lines
	// ("build-cold"); no spaces.
	Name string
	// Unit of Lading and Peer.
	Unit Unit
	// Lading and Peer are the medians of the two sides; Peer is NaN when
	// the row has no peer.
	Lading, Peer float64
	// PairRatio, when not zero, is the median of the per-run ratios of
	// interleaved runs (lading run i / peer run i), the figure reported as
	// the ratio: each pair ran under the same machine load, so a load
	// change between pairs cancels out, where it would skew the ratio of
	// the two medians.
	PairRatio float64
	// Check and Target say how the row passes; Strict makes an Absolute
	// target exclusive (value < target).
	Check  Check
	Target float64
	Strict bool
	// Note is printed under the table (what the peer is, how the numbers
	// were obtained).
	Note string
	// Err is set when the metric could not be measured; the row fails.
	Err error
}

// Ratio returns lading / peer, or NaN (also for Factor rows, whose
// values are ratios already).
func (r Row) Ratio() float64 {
	if r.PairRatio != 0 && r.Unit != Factor {
		return r.PairRatio
	}
	if r.Unit == Factor || math.IsNaN(r.Peer) || r.Peer == 0 || math.IsNaN(r.Lading) {
		return math.NaN()
	}
	return r.Lading / r.Peer
}

// Value is the number the target applies to.
func (r Row) Value() float64 {
	if r.Check == Ratio {
		return r.Ratio()
	}
	return r.Lading
}

// Pass reports whether the row meets its target; rows without a target
// pass unless they failed.
func (r Row) Pass() bool {
	if r.Err != nil {
		return false
	}
	if r.Check == Info {
		return true
	}
	v := r.Value()
	if math.IsNaN(v) {
		return false
	}
	if r.Strict {
		return v < r.Target
	}
	return v <= r.Target
}

// keyword is the first word of the row's machine-readable line.
func (r Row) keyword() string {
	if r.Check == Ratio || r.Unit == Factor {
		return "ratio"
	}
	if r.Unit == Bytes {
		return "bytes"
	}
	if r.Unit == Count {
		return "count"
	}
	return "seconds"
}

// Line is the row's machine-readable line, or "" for rows without a
// target: "ratio build-cold 1.02 target 1.05".
func (r Row) Line() string {
	if r.Check == Info {
		return ""
	}
	v := "NaN"
	if r.Err == nil && !math.IsNaN(r.Value()) {
		v = trimFloat(r.Value())
	}
	return fmt.Sprintf("%s %s %s target %s", r.keyword(), r.Name, v, trimFloat(r.Target))
}

// trimFloat prints a value with up to 3 decimals (more for small values),
// without trailing zeros.
func trimFloat(v float64) string {
	prec := 3
	if a := math.Abs(v); a != 0 && a < 0.01 {
		prec = 6
	}
	s := fmt.Sprintf("%.*f", prec, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatValue prints a measured value in its unit.
func formatValue(v float64, u Unit) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch u {
	case Seconds:
		return formatDuration(time.Duration(v * float64(time.Second)))
	case Bytes:
		return formatBytes(v)
	case Factor:
		return formatRatio(v)
	default:
		return formatCount(v)
	}
}

// formatDuration prints 3 significant digits: 812µs, 12.3ms, 1.25s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

func formatBytes(v float64) string {
	switch {
	case v < 1e3:
		return fmt.Sprintf("%.0f B", v)
	case v < 1e6:
		return sig3(v/1e3) + " kB"
	case v < 1e9:
		return sig3(v/1e6) + " MB"
	default:
		return sig3(v/1e9) + " GB"
	}
}

func formatCount(v float64) string {
	switch {
	case v < 10_000:
		return fmt.Sprintf("%.0f", v)
	case v < 10_000_000:
		return sig3(v/1e3) + "k"
	default:
		return sig3(v/1e6) + "M"
	}
}

// sig3 prints v with 3 significant digits (at least the integer part).
func sig3(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// formatRatio prints a ratio as "1.02×".
func formatRatio(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if v >= 10 {
		return fmt.Sprintf("%.1f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// formatTarget prints the row's target: "≤ 1.05×", "≤ 0.5s", "< 1 MiB".
func formatTarget(r Row) string {
	op := "≤ "
	if r.Strict {
		op = "< "
	}
	switch r.Check {
	case Ratio:
		return op + trimFloat(r.Target) + "×"
	case Absolute:
		switch r.Unit {
		case Seconds:
			return op + trimFloat(r.Target) + "s"
		case Bytes:
			return op + formatBytes(r.Target)
		case Factor:
			return op + trimFloat(r.Target) + "×"
		}
		return op + trimFloat(r.Target)
	}
	return ""
}

func passMark(r Row) string {
	switch {
	case r.Err != nil:
		return "ERROR"
	case r.Check == Info:
		return ""
	case r.Pass():
		return "yes"
	default:
		return "**NO**"
	}
}

// WriteTable writes the rows as a Markdown table (readable as plain text
// too), the notes and errors under it, then the machine-readable lines.
func WriteTable(w io.Writer, rows []Row) {
	header := []string{"metric", "lading", "peer", "ratio", "target", "pass"}
	cells := [][]string{header}
	for _, r := range rows {
		cells = append(cells, []string{
			r.Name,
			formatValue(r.Lading, r.Unit),
			formatValue(r.Peer, r.Unit),
			formatRatio(r.Ratio()),
			formatTarget(r),
			passMark(r),
		})
	}
	widths := make([]int, len(header))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range row {
			pad := widths[i] - len([]rune(c))
			if i == 0 {
				b.WriteString(" " + c + strings.Repeat(" ", pad) + " |")
			} else {
				b.WriteString(" " + strings.Repeat(" ", pad) + c + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(cells[0])
	var sep strings.Builder
	sep.WriteString("|")
	for i, wd := range widths {
		if i == 0 {
			sep.WriteString(" " + strings.Repeat("-", wd) + " |")
		} else {
			sep.WriteString(" " + strings.Repeat("-", wd-1) + ": |")
		}
	}
	fmt.Fprintln(w, sep.String())
	for _, row := range cells[1:] {
		line(row)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(w, "- %s: %s\n", r.Name, r.Note)
		}
	}
	for _, r := range rows {
		if r.Err != nil {
			fmt.Fprintf(w, "- %s: ERROR: %v\n", r.Name, r.Err)
		}
	}
	fmt.Fprintln(w)
	WriteLines(w, rows)
}

// WriteLines writes one machine-readable line per row with a target.
func WriteLines(w io.Writer, rows []Row) {
	for _, r := range rows {
		if l := r.Line(); l != "" {
			fmt.Fprintln(w, l)
		}
	}
}

// AllPass reports whether every row passed.
func AllPass(rows []Row) bool {
	for _, r := range rows {
		if !r.Pass() {
			return false
		}
	}
	return true
}

// AllMeasured reports whether no row failed to be measured.
func AllMeasured(rows []Row) bool {
	for _, r := range rows {
		if r.Err != nil {
			return false
		}
	}
	return true
}
