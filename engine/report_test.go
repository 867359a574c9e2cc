package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const reportSentinel = "s3cr3t-sentinel"

// sampleReportBuild is traceSummary laid out for the report, with an
// upload, a cache volume, a warning and a build error that each hold the
// sentinel or markup.
func sampleReportBuild(t *testing.T) reportBuild {
	t.Helper()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sum := traceSummary(t0)
	sum.Steps[2].Why = `env GOFLAGS changed: "` + reportSentinel + `" → "<script>alert(1)</script>"`
	sum.Uploads = []Upload{{Name: "h", Path: "/src/app", Entries: 3, ContextFiles: 2, ContextBytes: 4000, Files: 1, Bytes: 1000,
		Largest: []UploadSubtree{{Path: "src/", ContextBytes: 4000}}, Hints: []string{"sends .env, a credential file (1 file, 7 B; 7 B this build): add .env to .dockerignore"}}}
	sum.Warnings = []string{"cache import failed: token " + reportSentinel}
	caches := []reportCache{{ID: "go-mod", Size: "12.3 MB"}, {ID: "go-build", Size: "unknown"}}
	return newReportBuild("build 1: go test", "unix:///run/buildkit.sock", t0, sum, "step go test failed: "+reportSentinel, caches, newScrubber([][]byte{[]byte(reportSentinel)}))
}

func TestReportIsSelfContainedEscapedAndScrubbed(t *testing.T) {
	t.Parallel()
	b := sampleReportBuild(t)
	var sb strings.Builder
	require.NoError(t, renderReport(&sb, reportPage{Builds: []reportBuild{b}, Written: time.Now()}))
	html := sb.String()

	assert.NotContains(t, html, reportSentinel, "secrets are scrubbed from every field")
	assert.NotContains(t, html, "<script>", "values are escaped")
	assert.Contains(t, html, "&lt;script&gt;")
	for _, ref := range []string{"src=", "href=", "@import", "url(", "http://", "https://"} {
		assert.NotContains(t, html, ref, "no external asset")
	}
	for _, want := range []string{
		"go build ./... TOKEN=***", "ci/main.go:12", "apt-get update", "unix:///run/buildkit.sock",
		`class="step failed"`, `class="step ran"`, `class="step cached"`, `class="step source"`,
		`<li class="miss"><code>ci/main.go:12</code>`, "/src/app", "1 file, 1.0 kB", "sends .env, a credential file",
		"go-mod", "12.3 MB", "unknown", "cache import failed: token ***", "step go test failed: ***", "<svg",
	} {
		assert.Contains(t, html, want)
	}
	assert.Equal(t, 4, strings.Count(html, "<rect "), "one bar per step")
}

func TestReportTimelinePlacesSteps(t *testing.T) {
	t.Parallel()
	b := sampleReportBuild(t)
	require.Len(t, b.Steps, 4)
	assert.Equal(t, []string{"source", "cached", "ran", "failed"}, []string{b.Steps[0].State, b.Steps[1].State, b.Steps[2].State, b.Steps[3].State})
	assert.True(t, b.Failed)
	// 900 ms wide: the step at +600ms for 200ms sits at 2/3 of the width.
	assert.InDelta(t, 1000*600.0/900, b.Steps[3].X, 0.01)
	assert.InDelta(t, 1000*200.0/900, b.Steps[3].W, 0.01)
	assert.InDelta(t, 2, b.Steps[1].W, 0.01, "a cached step still gets a visible bar")
	for _, s := range b.Steps {
		assert.LessOrEqual(t, s.X+s.W, 1000.0)
	}
}

func TestReportFileIsWrittenAtomicallyAndKeepsBuilds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "run.html")
	rf := &reportFile{path: path}
	b := sampleReportBuild(t)
	require.NoError(t, rf.add(b))
	b.Title = "build 2: second"
	require.NoError(t, rf.add(b))
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(dt), "build 1: go test")
	assert.Contains(t, string(dt), "build 2: second")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")

	// A directory in the way: the error names the file.
	bad := &reportFile{path: filepath.Join(dir, "missing", "run.html")}
	err = bad.add(b)
	require.ErrorContains(t, err, filepath.Join(dir, "missing", "run.html"))
}

func TestReportFileFromEnvIsSharedByPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	t.Setenv("LADING_REPORT", path)
	var a, b settings
	assert.Same(t, a.reportFileFor(), b.reportFileFor(), "every build of the process adds to one file")
	t.Setenv("LADING_REPORT", "")
	assert.Nil(t, a.reportFileFor())
	opt := &reportFile{path: "x.html"}
	a.run.report = opt
	assert.Same(t, opt, a.reportFileFor(), "the option wins")
}

func TestCacheMountID(t *testing.T) {
	t.Parallel()
	for desc, want := range map[string]string{
		`cached mount /go/pkg/mod from exec /bin/sh -c go build with id "go-mod"`: "go-mod",
		`cached mount /root/.m2 from exec mvn with id "m2 \"q\""`:                 `m2 "q"`,
		`cached mount /cache from exec x`:                                         "/cache",
		`local source for context`:                                                "",
	} {
		got, ok := cacheMountID(desc)
		assert.Equal(t, want != "", ok, desc)
		assert.Equal(t, want, got, desc)
	}
}

func TestReportHasNoExternalReferences(t *testing.T) {
	t.Parallel()
	// The template itself: no link, script or stylesheet from elsewhere.
	assert.False(t, regexp.MustCompile(`(?i)<(script|link|img|iframe)\b`).MatchString(reportTemplateText))
}

func BenchmarkReportWrite(b *testing.B) {
	dir := b.TempDir()
	t0 := time.Now()
	sum := traceSummary(t0)
	for i := range 20 {
		sum.Steps = append(sum.Steps, StepSummary{Name: fmt.Sprintf("exec step %d", i), Op: "exec", Location: "ci/main.go:1", Cached: true, Start: t0})
	}
	build := newReportBuild("build", "unix:///x", t0, sum, "", nil, newScrubber(nil))
	for b.Loop() {
		rf := &reportFile{path: filepath.Join(dir, "r.html")}
		if err := rf.add(build); err != nil {
			b.Fatal(err)
		}
	}
}
