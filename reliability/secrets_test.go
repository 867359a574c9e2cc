package reliability

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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
		switch u := e.(type) {
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
