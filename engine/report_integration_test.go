package engine

import (
	"bytes"
	"context"
	"net"
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

// reportedRun runs two real builds with a run report and returns the
// report's path: one that succeeds (a cache volume, a host directory, a
// secret whose value also appears in a step's arguments) and one that
// fails in a step after the first build's steps, which are then cached.
func reportedRun(t *testing.T, opts ...Option) (path, tag string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "run.html")
	e, _ := testEngine(t, append([]Option{WithReport(path)}, opts...)...)
	dir := t.TempDir()
	tag = uniqueTag(t)
	writeTree(t, dir, map[string]string{"app.txt": "app " + tag, ".git/HEAD": "ref: x\n"})
	secret := sdk.SecretFromValue("token", reportSentinel+tag)
	base := ltContainer(t).
		WithDirectory("/ctx", sdk.Host(dir)).
		WithMountedCache("/cache", sdk.CacheVolume("report-"+tag)).
		WithExec([]string{"/bin/lt", "write", "/cache/x", "cached " + tag}).
		WithMountedSecret("/run/secrets/token", secret).
		WithExec([]string{"/bin/lt", "echo", "step-one-" + tag, reportSentinel + tag})
	_, err := e.Build(t.Context(), base)
	require.NoError(t, err)
	_, err = e.Build(t.Context(), base.WithExec([]string{"/bin/lt", "exit", "3", "step-two-fails-" + tag}))
	require.Error(t, err)
	return path, tag
}

func TestRunReportOfRealBuilds(t *testing.T) {
	o := startOTLPHTTP(t)
	path, tag := reportedRun(t)
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	html := string(dt)
	env := testenv.Require(t)

	assert.NotContains(t, html, reportSentinel, "the secret's value is scrubbed")
	assert.Equal(t, 2, strings.Count(html, `<section class="build`), "both builds are in one file")
	assert.Contains(t, html, `<section class="build failed"`, "the failed build is marked")
	assert.Contains(t, html, `class="step failed"`, "the failed step is marked")
	assert.Contains(t, html, "step-two-fails-"+tag)
	assert.Contains(t, html, "step-one-"+tag+" ***")
	assert.Contains(t, html, `class="step cached"`, "the second build's shared steps are cached")
	assert.Contains(t, html, `<li class="miss">`)
	assert.Contains(t, html, "report_integration_test.go:", "steps name their Go line")
	assert.Contains(t, html, env.BuildkitHost, "the engine's address")
	assert.Regexp(t, `report-`+tag+`</td><td class="num">[0-9.]+ [kMG]?B<`, html, "the cache volume and its size")
	assert.Contains(t, html, "sends .git/, version control metadata")
	assert.NotRegexp(t, `(?i)<(script|link|img)\b`, html)

	// The same run as a trace: one build span per build, a span per step.
	var builds, failed int
	var sawStep bool
	for _, s := range o.received() {
		assert.NotContains(t, s.String(), reportSentinel)
		if s.GetName() == "lading build" {
			builds++
			assert.Equal(t, env.BuildkitHost, spanAttrs(s)["lading.engine.address"])
			if s.GetStatus().GetCode() == 2 {
				failed++
			}
		}
		if strings.Contains(s.GetName(), "step-one-"+tag) {
			sawStep = true
			assert.Contains(t, spanAttrs(s)["lading.step.location"], "report_integration_test.go:")
		}
	}
	assert.Equal(t, 2, builds)
	assert.Equal(t, 1, failed)
	assert.True(t, sawStep)
}

func TestRunReportRendersInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("chromium is not installed (hack/testenv.sh up installs it with apt): %v", err)
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	path, tag := reportedRun(t)
	out := t.TempDir()
	run := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--user-data-dir=" + filepath.Join(out, "profile"), "--window-size=1280,1000"}, args...)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append(args, "file://"+path)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		require.NoError(t, err, "chromium %v: %s", args, stderr.String())
		return stdout
	}

	dom := string(run("--dump-dom"))
	assert.Contains(t, dom, "lading run report")
	assert.Contains(t, dom, "step-one-"+tag)
	assert.Contains(t, dom, "step-two-fails-"+tag)
	assert.Contains(t, dom, `class="step failed"`)
	assert.Contains(t, dom, `<li class="miss">`)
	assert.Contains(t, dom, "<rect ")
	assert.NotContains(t, dom, reportSentinel)

	shot := filepath.Join(out, "report.png")
	if keep := os.Getenv("LADING_TEST_KEEP_REPORT"); keep != "" {
		shot = keep
	}
	run("--screenshot=" + shot)
	png, err := os.ReadFile(shot)
	require.NoError(t, err)
	assert.Greater(t, len(png), 1000, "a real picture")
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "a PNG")
}

func TestReportAndTraceFailuresAreWarnings(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := lis.Addr().String()
	require.NoError(t, lis.Close())
	for _, proto := range []string{"http/protobuf", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+dead)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
			e, _ := testEngine(t, WithReport(filepath.Join(t.TempDir(), "missing", "run.html")))
			start := time.Now()
			res, err := e.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "echo", uniqueTag(t)}))
			require.NoError(t, err, "neither failure fails the build")
			took := time.Since(start)
			warnings := strings.Join(res.Summary.Warnings, "\n")
			assert.Contains(t, warnings, "run report")
			assert.Contains(t, warnings, "exporting the trace")
			assert.Less(t, took, traceTimeout+5*time.Second, "a dead collector costs at most the export timeout")
			t.Logf("build with a dead collector took %s", took)
		})
	}
}

func TestRunReportOfABuildThatFailsBeforeItsSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.html")
	e, _ := testEngine(t, WithReport(path))
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	_, err := e.Build(t.Context(), sdk.Scratch().WithDirectory("/src", sdk.Host(missing)))
	require.Error(t, err)
	dt, rerr := os.ReadFile(path)
	require.NoError(t, rerr, "a build that fails before its solve is reported too")
	html := string(dt)
	assert.Contains(t, html, `<section class="build failed"`)
	assert.Contains(t, html, "failed before any step started")
	assert.Contains(t, html, "no-such-dir", "with its error")
}
