package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReportLabelsStayOnTheTimeline: a bar's label is drawn where it fits
// whole. A regression: a long step starting near the left edge had its
// label drawn left of its bar, cut off by the picture's edge (seen in
// Chromium's screenshot of a skipped build's report).
func TestReportLabelsStayOnTheTimeline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		what         string
		x, w         float64
		chars        int
		left, inside bool
		fits         bool
	}{
		{"a short bar on the left: right of it", 10, 50, 40, false, false, true},
		{"a bar ending on the right: left of it", 700, 290, 40, true, false, true},
		{"a long bar from the left: inside it", 12, 960, 40, false, true, true},
		{"no room anywhere: the wider side", 330, 330, 60, false, false, false},
	} {
		rs := reportStep{X: tc.x, W: tc.w, Label: strings.Repeat("x", tc.chars)}
		placeLabel(&rs)
		assert.Equal(t, tc.left, rs.LabelLeft, tc.what)
		assert.Equal(t, tc.inside, rs.LabelInside, tc.what)
		w := labelWidth * float64(tc.chars)
		start, end := rs.LabelX, rs.LabelX+w
		if rs.LabelLeft {
			start, end = rs.LabelX-w, rs.LabelX
		}
		if tc.fits {
			assert.GreaterOrEqual(t, start, 0.0, tc.what)
			assert.LessOrEqual(t, end, float64(timelineWidth), tc.what)
		}
	}
}
