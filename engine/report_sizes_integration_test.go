package engine

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// The run report shows cache volume sizes measured once and kept while
// builds are fully cached; a build in which a step ran makes the next
// report ask the engine again.
func TestRunReportVolumeSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.html")
	e, _ := testEngine(t, WithReport(path), WithRecords(t.TempDir()))
	tag := uniqueTag(t)
	vol := "sizes-" + tag
	write := func(n int) *sdk.Container {
		return ltContainer(t).
			WithMountedCache("/cache", sdk.CacheVolume(vol)).
			WithExec([]string{"/bin/lt", "write", "/cache/data", tag + strings.Repeat("v", n)})
	}
	builds := 0
	build := func(c *sdk.Container) string {
		t.Helper()
		_, err := e.Build(t.Context(), c)
		require.NoError(t, err)
		dt, err := os.ReadFile(path)
		require.NoError(t, err)
		sections := strings.Split(string(dt), `<section class="build`)[1:]
		require.Len(t, sections, builds+1)
		m := regexp.MustCompile(`<td class="loc">` + regexp.QuoteMeta(vol) + `</td><td class="num">([^<]*)</td>`).FindStringSubmatch(sections[builds])
		require.NotNil(t, m, "build %d lists the volume", builds)
		builds++
		return m[1]
	}
	// A size, or "unknown": BuildKit may list a volume as in use, with no
	// size, while the connection whose build mounted it is open.
	sized := `^([\d.]+ [kMG]?B|unknown)$`
	kept := func(measured string) string {
		if measured == "unknown" {
			return `^unknown$`
		}
		return `^` + regexp.QuoteMeta(measured) + ` \(as of \d\d:\d\d:\d\d\)$`
	}

	build(write(40_000))
	before := volumeMeasurements.Load()
	measured := build(write(40_000))
	assert.Regexp(t, sized, measured)
	assert.Equal(t, before+1, volumeMeasurements.Load(), "measured once")
	assert.Regexp(t, kept(measured), build(write(40_000)), "cached again: the kept measurement")
	assert.Equal(t, before+1, volumeMeasurements.Load(), "without asking the engine")

	build(write(120_000))
	assert.Regexp(t, sized, build(write(120_000)))
	assert.Equal(t, before+2, volumeMeasurements.Load(), "a step ran: measured again")
	assert.Equal(t, before+2, volumeMeasurements.Load())
}
