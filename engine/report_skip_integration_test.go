package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// TestRunReportOfASkippedBuild: with LADING_REPORT set, a build that
// WithSkipUnchanged skips is on the page too — marked skipped, with the
// reason, the build it is unchanged from, the digest and its steps, and
// no secret — and in the trace as a build span marked skipped; checked
// in Chromium as the other report test does. Before, a skipped build
// wrote no report and no trace.
func TestRunReportOfASkippedBuild(t *testing.T) {
	o := startOTLPHTTP(t)
	path := filepath.Join(t.TempDir(), "run.html")
	t.Setenv("LADING_REPORT", path)
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("report-skip"), WithSkipUnchanged())
	tag := uniqueTag(t)
	secret := reportSentinel + tag
	v := ltContainer(t).
		WithSecretEnv("TOKEN", sdk.SecretFromValue("token", secret)).
		WithExec([]string{"/bin/lt", "echo", "skip-step-" + tag, secret})

	_, err := eng.Build(t.Context(), v)
	require.NoError(t, err)
	res, err := eng.Build(t.Context(), v)
	require.NoError(t, err)
	require.NotEmpty(t, res.Summary.Skipped)
	assert.Empty(t, res.Summary.Warnings, "the report and the trace were written")

	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(dt)
	assert.Equal(t, 2, strings.Count(html, `<section class="build`), "the build that ran and the skipped one")
	assert.Contains(t, html, `<section class="build skipped"`)
	assert.Contains(t, html, "— unchanged, skipped</h2>")
	assert.Contains(t, html, `<div class="skip-reason">unchanged, skipped: unchanged since the build of `)
	assert.Contains(t, html, `data-state="skipped"`)
	assert.Contains(t, html, "skip-step-"+tag+" ***", "the steps it did not run, scrubbed")
	assert.NotContains(t, html, reportSentinel)
	assert.NotRegexp(t, `(?i)<(script|link|img)\b`, html)

	var builds, skipped int
	for _, s := range o.received() {
		assert.NotContains(t, s.String(), reportSentinel)
		if s.GetName() == "lading build" {
			builds++
			if why, _ := spanAttrs(s)["lading.skipped"].(string); strings.HasPrefix(why, "unchanged since the build of ") {
				skipped++
			}
		}
	}
	assert.Equal(t, 2, builds)
	assert.Equal(t, 1, skipped)

	dom := chromiumDOM(t, path)
	assert.Contains(t, dom, `class="build skipped"`)
	assert.Contains(t, dom, "unchanged, skipped: unchanged since the build of ")
	assert.Contains(t, dom, "skip-step-"+tag)
	assert.NotContains(t, dom, reportSentinel)
}

// chromiumDOM loads a page in Debian's headless Chromium and returns its
// DOM; without chromium it skips, or fails under LADING_REQUIRE_ENGINE.
func chromiumDOM(t *testing.T, path string) string {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("chromium is not installed (hack/testenv.sh up installs it with apt): %v", err)
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--window-size=1280,1000", "--dump-dom", "file://"+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return string(out)
}
