package engine

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// The run report shows cache volume sizes measured once and kept while
// builds are fully cached; a build in which a step ran drops them, so the
// next report asks the engine again.
func TestRunReportVolumeSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.html")
	records := t.TempDir()
	e, _ := testEngine(t, WithReport(path), WithRecords(records))
	store := string(sizeStoreIn(records, e.Address()))
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
	// The measurement is kept once the engine answers (on a loaded
	// machine, after the build that asked may have shown "unknown").
	kept := func() volumeSizeSet {
		t.Helper()
		var v volumeSizeSet
		require.Eventually(t, func() bool {
			var ok bool
			v, ok = sizeStore(store).load([]string{vol})
			return ok
		}, 20*time.Second, 50*time.Millisecond, "the measurement is kept in %s", store)
		return v
	}

	build(write(40_000))
	_, err := os.Stat(store)
	require.ErrorIs(t, err, os.ErrNotExist, "a step ran: nothing kept")
	build(write(40_000))
	first := kept()
	shown := build(write(40_000))
	assert.Equal(t, first, kept(), "cached again: the engine is not asked again")
	assert.Equal(t, first.report([]string{vol}, true)[0].Size, shown, "the kept figure, with its time when known")

	build(write(120_000))
	_, err = os.Stat(store)
	require.ErrorIs(t, err, os.ErrNotExist, "a step ran: the kept figure is dropped")
	build(write(120_000))
	assert.True(t, kept().Measured.After(first.Measured), "measured again")
}
