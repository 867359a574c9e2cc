package engine

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// misplaced lists options by where they have an effect.
var (
	connectionOptions = map[string]Option{
		"WithAddress":      WithAddress("unix:///run/elsewhere.sock"),
		"WithTLS":          WithTLS(TLSConfig{CACert: "ca.pem"}),
		"AllowInsecureTCP": AllowInsecureTCP(),
		"WithoutAutoStart": WithoutAutoStart(),
	}
	localOptions = map[string]Option{
		"WithRegistryMirror": WithRegistryMirror("docker.io", "mirror.example.com"),
		"WithBuildkitd":      WithBuildkitd("/usr/local/bin/buildkitd"),
		"WithEngineImage":    WithEngineImage("moby/buildkit:v0.34.2"),
		"WithLogOutput":      WithLogOutput(io.Discard),
		"Silent":             Silent(),
	}
	buildOptions = map[string]Option{
		"WithProgress":        WithProgress(ProgressQuiet),
		"WithProgressOutput":  WithProgressOutput(io.Discard),
		"WithEvents":          WithEvents(func(Event) {}),
		"WithPlatforms":       WithPlatforms("linux/amd64"),
		"WithSourceDateEpoch": WithSourceDateEpoch(time.Unix(1700000000, 0)),
		"WithDockerConfig":    WithDockerConfig("/nonexistent"),
		"WithDockerHost":      WithDockerHost("unix:///nonexistent/docker.sock"),
	}
)

func TestStartLocalRejectsOptionsItIgnores(t *testing.T) {
	isolateLocal(t)
	// Should an option slip through, StartLocal fails at once rather than
	// start an engine.
	t.Setenv("LADING_BUILDKITD", "/nonexistent/buildkitd")
	for name, o := range connectionOptions {
		t.Run(name, func(t *testing.T) {
			_, err := StartLocal(t.Context(), o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "engine."+name+" has no effect in engine.StartLocal")
			assert.Contains(t, err.Error(), "pass it to engine.Connect")
			assert.NotContains(t, err.Error(), "buildkitd binary", "refused before anything starts")
		})
	}
	for name, o := range buildOptions {
		t.Run(name, func(t *testing.T) {
			_, err := StartLocal(t.Context(), o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "engine."+name+" has no effect in engine.StartLocal")
			assert.Contains(t, err.Error(), "pass it to engine.Connect or Engine.With")
		})
	}
	t.Run("nil option", func(t *testing.T) {
		var err error
		require.NotPanics(t, func() { _, err = StartLocal(t.Context(), nil) })
		require.ErrorContains(t, err, "engine.StartLocal: nil option")
	})
}

func TestConnectNilOption(t *testing.T) {
	t.Parallel()
	var err error
	require.NotPanics(t, func() { _, err = Connect(t.Context(), Silent(), nil) })
	require.ErrorContains(t, err, "engine.Connect: nil option")
}

func TestWithRejectsOptionsItIgnores(t *testing.T) {
	e, env := testEngine(t)
	c := ltContainer(t).WithExec([]string{"/bin/lt", "echo", "with", uniqueTag(t)})

	misplaced := map[string]Option{}
	for name, o := range connectionOptions {
		misplaced[name] = o
	}
	for name, o := range localOptions {
		misplaced[name] = o
	}
	for name, o := range misplaced {
		t.Run(name, func(t *testing.T) {
			copied := e.With(WithProgress(ProgressQuiet), o)
			_, err := copied.Build(t.Context(), c)
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, "engine."+name+" has no effect in Engine.With")
			assert.Contains(t, msg, "pass it to engine.Connect")
			_, err = copied.Status(t.Context())
			require.ErrorContains(t, err, "engine."+name, "every use of the copy reports it")
			_, err = copied.With(WithProgress(ProgressQuiet)).Build(t.Context(), c)
			assert.ErrorContains(t, err, "engine."+name, "and copies of the copy")
		})
	}
	t.Run("nil option", func(t *testing.T) {
		_, err := e.With(nil).Build(t.Context(), c)
		require.ErrorContains(t, err, "Engine.With: nil option")
	})

	t.Run("build options apply", func(t *testing.T) {
		opts := []Option{WithInsecureRegistry(env.Registry)}
		for _, o := range buildOptions {
			opts = append(opts, o)
		}
		res, err := e.With(opts...).Build(t.Context(), c)
		require.NoError(t, err)
		assert.NotEmpty(t, res.Summary.Steps)
	})
	t.Run("the original engine is unaffected", func(t *testing.T) {
		_ = e.With(WithAddress("unix:///elsewhere.sock"))
		_, err := e.Build(t.Context(), c)
		require.NoError(t, err)
	})
}

func TestOptionErrorsAreBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 10<<20)
	_, err := Connect(t.Context(), Silent(), WithPlatforms(huge))
	require.ErrorContains(t, err, "engine.WithPlatforms")
	assert.Less(t, len(err.Error()), 10_000, "a 10 MB platform makes a short error")
	_, err = Connect(t.Context(), Silent(), WithAddress(huge))
	require.ErrorContains(t, err, "invalid engine address")
	assert.Less(t, len(err.Error()), 10_000, "a 10 MB address makes a short error")
}
