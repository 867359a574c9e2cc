package reliability

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// TestSecretsLeakNowhere follows one secret, used as a mounted file and as
// an env var by a step that prints it, through everything a build
// produces: the compiled LLB definition, the readable plan, the published
// image (manifest, config with its history, every layer), the progress
// output, the events, the error of a failing step that prints it (its
// message, %+v and every error it wraps), and the daemon's build history
// (the record, its logs, trace and provenance).
func TestSecretsLeakNowhere(t *testing.T) {
	since := time.Now()
	value := "rel-s3cret-" + token(t)
	visible := "visible-" + token(t) // printed next to the secret: proves each place is searched
	t.Setenv("LADING_REL_SECRET", value)
	secret := sdk.SecretFromEnv("LADING_REL_SECRET")

	var (
		progress bytes.Buffer
		mu       sync.Mutex
		events   []engine.Event
	)
	e, env := sharedEngine(t, engine.WithProgress(engine.ProgressPlain), engine.WithProgressOutput(&progress),
		engine.WithEvents(func(ev engine.Event) { mu.Lock(); events = append(events, ev); mu.Unlock() }))

	c := sdk.From("debian:bookworm").
		WithMountedSecret("/run/secrets/token", secret).
		WithSecretEnv("TOKEN", secret).
		WithExec([]string{"sh", "-c", `echo "` + visible + ` mounted=$(cat /run/secrets/token) env=$TOKEN"; echo "stderr=$TOKEN" >&2; echo ` + visible + ` > /built`})

	// The compiled graph names the secret, never its value.
	prog, err := llb.CompileValue(t.Context(), c, llb.Options{})
	require.NoError(t, err)
	pbDef, err := prog.Def.ToPB().Marshal()
	require.NoError(t, err)
	assert.NotContains(t, string(pbDef), value, "LLB definition bytes")
	assert.Contains(t, string(pbDef), "LADING_REL_SECRET", "the graph refers to the secret by name")
	assert.Contains(t, string(pbDef), visible, "control: the definition holds the step's args")
	for _, s := range prog.Secrets {
		assert.Empty(t, s.Value, "a secret from env carries no value at compile time")
	}
	assert.NotContains(t, sdktest.PlanOf(c).String(), value, "readable plan")

	ref, repo := imageRef(t, env)
	dgst, err := e.Publish(t.Context(), c, ref)
	require.NoError(t, err)

	img := pullImage(t, env.Registry, repo, dgst, "library/debian:bookworm")
	where, found := img.contains(value)
	assert.False(t, found, "the secret is in the image's %s", where)
	_, found = img.contains(visible)
	assert.True(t, found, "control: the file the step wrote is in a layer")
	for _, kv := range img.Config.Config.Env {
		assert.False(t, strings.HasPrefix(kv, "TOKEN="), "the secret env var is not in the image config: %s", kv)
	}
	for _, l := range img.Layers {
		for _, name := range tarNames(t, l) {
			assert.NotContains(t, name, "run/secrets", "the secret's mount point is not in a layer")
		}
	}

	// A failing step that prints the secret.
	_, err = e.Build(t.Context(), sdk.From("debian:bookworm").
		WithMountedSecret("/run/secrets/token", secret).
		WithSecretEnv("TOKEN", secret).
		WithExec([]string{"sh", "-c", `echo "failing with $TOKEN"; echo "and $(cat /run/secrets/token) ` + visible + `" >&2; exit 7`}))
	require.Error(t, err)
	var xe *engine.ExecError
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, 7, xe.ExitCode)
	assert.Contains(t, xe.Output, "failing with ***")
	assert.Contains(t, xe.Output, "and *** "+visible)
	for _, msg := range errorTexts(err) {
		assert.NotContains(t, msg, value, "error text")
	}
	assert.Contains(t, err.Error(), visible, "control: the error shows the step's output")

	mu.Lock()
	defer mu.Unlock()
	out := progress.String()
	assert.NotContains(t, out, value, "progress output")
	assert.Contains(t, out, visible+" mounted=*** env=***", "the step's line, scrubbed")
	assert.Contains(t, out, "stderr=***")
	var sawLine bool
	for _, ev := range events {
		assert.NotContains(t, ev.Line, value, "event line")
		assert.NotContains(t, ev.Error, value, "event error")
		assert.NotContains(t, ev.Name, value, "event name")
		sawLine = sawLine || strings.Contains(ev.Line, visible+" mounted=***")
	}
	assert.True(t, sawLine, "control: the scrubbed line arrives as an event")

	// The daemon's own records of these builds: the record, trace and
	// provenance hold no secret (the logs do: see
	// TestSecretsStayOutOfBuildHistory).
	for _, r := range buildHistory(t, env.BuildkitHost, since) {
		for _, w := range r.find(value) {
			if w != "logs" {
				t.Errorf("build history record %s holds the secret in %s", r.Ref, w)
			}
		}
	}
}

// TestSecretsStayOutOfBuildHistory checks the daemon's build history (what
// `buildctl history logs` and `docker buildx history` show to anyone who
// can reach the daemon) after a step printed a secret: lading scrubs its
// own progress output, but the daemon keeps the raw logs of every build
// that is not marked internal.
func TestSecretsStayOutOfBuildHistory(t *testing.T) {
	since := time.Now()
	value := "rel-hist-s3cret-" + token(t)
	visible := "visible-" + token(t)
	e, env := sharedEngine(t)
	secret := sdk.SecretFromValue("rel-hist", value)
	_, err := e.Build(t.Context(), sdk.From("debian:bookworm").
		WithSecretEnv("TOKEN", secret).
		WithExec([]string{"sh", "-c", `echo "` + visible + ` $TOKEN"`}))
	require.NoError(t, err)
	assert.Empty(t, historyLeaks(t, env.BuildkitHost, since, value), "the daemon's build history holds the secret")
}

// errorTexts returns the message of err, its %+v form (with BuildKit's
// stack traces) and the message of every error it wraps.
func errorTexts(err error) []string {
	out := []string{fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e.Error())
		// Node by node, on purpose: errors.As would look past this node
		// into its chain and skip the siblings of a joined error.
		switch u := e.(type) { //nolint:errorlint // walks the chain itself
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

// While a step that prints a secret runs, and after it, no client of the
// daemon can find the build to stream its live log: it is not among the
// builds the daemon lists, and lading hands out no reference for it. The
// control, a build printing a plain marker, is found and streamed.
func TestSecretBuildLiveLogUnreachable(t *testing.T) {
	value := "rel-live-s3cret-" + token(t)
	marker := "rel-live-plain-" + token(t)
	e, env := sharedEngine(t)
	secret := sdk.SecretFromValue("rel-live", value)
	watcher, err := client.New(t.Context(), env.BuildkitHost)
	require.NoError(t, err)
	defer watcher.Close()

	printTwice := `echo "live $V"; sleep 3; echo "again $V"`
	builds := map[string]*sdk.Container{
		"secret": sdk.From("debian:bookworm").WithSecretEnv("V", secret).WithExec([]string{"sh", "-c", printTwice}),
		"plain":  sdk.From("debian:bookworm").WithEnv("V", marker).WithExec([]string{"sh", "-c", printTwice}),
	}
	type outcome struct {
		name string
		res  *engine.Result
		err  error
	}
	done := make(chan outcome, len(builds))
	for name, c := range builds {
		go func() {
			res, err := e.Build(t.Context(), c)
			done <- outcome{name, res, err}
		}()
	}
	live := &liveLogs{c: watcher, logs: map[string]*bytes.Buffer{}}
	for finished := 0; finished < len(builds); {
		select {
		case o := <-done:
			require.NoError(t, o.err)
			if o.name == "secret" {
				assert.Empty(t, o.res.BuildID, "no reference is handed out for a build that reads a secret")
			}
			if o.res.BuildID != "" {
				live.follow(t, o.res.BuildID) // what a holder of the reference could read after
			}
			finished++
		case <-time.After(100 * time.Millisecond):
			for _, ref := range activeBuilds(t, watcher) {
				live.follow(t, ref)
			}
		}
	}
	all := live.wait()
	assert.Contains(t, all, "live "+marker, "control: the watcher streams the live log of a plain build")
	assert.NotContains(t, all, value, "the secret build's live log was reachable")
}

// liveLogs streams the live progress of builds, by reference.
type liveLogs struct {
	c    *client.Client
	mu   sync.Mutex
	wg   sync.WaitGroup
	logs map[string]*bytes.Buffer
}

func (l *liveLogs) follow(t *testing.T, ref string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.logs[ref]; ok {
		return
	}
	buf := &bytes.Buffer{}
	l.logs[ref] = buf
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		stream, err := l.c.ControlClient().Status(ctx, &controlapi.StatusRequest{Ref: ref})
		if err != nil {
			return
		}
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			l.mu.Lock()
			for _, lg := range resp.Logs {
				buf.Write(lg.Msg)
			}
			l.mu.Unlock()
		}
	}()
}

func (l *liveLogs) wait() string {
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	var all strings.Builder
	for _, b := range l.logs {
		all.Write(b.Bytes())
	}
	return all.String()
}

// activeBuilds lists the refs of the builds the daemon reports as running.
func activeBuilds(t *testing.T, c *client.Client) []string {
	t.Helper()
	stream, err := c.ControlClient().ListenBuildHistory(t.Context(), &controlapi.BuildHistoryRequest{ActiveOnly: true, EarlyExit: true})
	require.NoError(t, err)
	var refs []string
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return refs
		}
		require.NoError(t, err)
		if rec := ev.GetRecord(); rec != nil {
			refs = append(refs, rec.Ref)
		}
	}
}

// A build that reads a secret and exports its cache leaves the value out of
// every file of the exported cache; a new value re-runs nothing.
func TestSecretsStayOutOfExportedCache(t *testing.T) {
	value := "rel-cache-s3cret-" + token(t)
	e, _ := sharedEngine(t)
	dir := filepath.Join(t.TempDir(), "cache")
	withCache := e.With(engine.WithCacheTo(engine.LocalCache(dir)))
	run := token(t)
	graph := func(v string) *sdk.Container {
		return sdk.From("debian:bookworm").
			WithSecretEnv("TOKEN", sdk.SecretFromValue("rel-cache", v)).
			WithMountedSecret("/run/secrets/token", sdk.SecretFromValue("rel-cache-file", v)).
			WithExec([]string{"sh", "-c", `test -n "$TOKEN" && test -s /run/secrets/token && echo ` + run + ` > /marker`})
	}
	_, err := withCache.Build(t.Context(), graph(value))
	require.NoError(t, err)

	found, files := 0, 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		dt, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if zr, zerr := gzip.NewReader(bytes.NewReader(dt)); zerr == nil {
			if plain, rerr := io.ReadAll(zr); rerr == nil {
				dt = plain
			}
		}
		assert.NotContains(t, string(dt), value, "the secret is in the exported cache's %s", path)
		if bytes.Contains(dt, []byte(run)) {
			found++
		}
		return nil
	}))
	assert.NotZero(t, found, "control: the step's own output is in one of the %d cache files", files)

	res, err := e.Build(t.Context(), graph(value+"-rotated"))
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Ran, "a new secret value re-runs nothing:\n%s", res.Summary)
}
