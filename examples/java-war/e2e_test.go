package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// TestEndToEnd builds the WAR and the Tomcat image on the real engine,
// starts Tomcat in a step on top of the image and requests the page, then
// checks the cached rebuild and that after a source change Maven runs again
// without downloading anything (the ~/.m2 cache volume has it all).
func TestEndToEnd(t *testing.T) {
	env := testenv.Require(t)
	var mu sync.Mutex
	var mvnLog []string
	eng, err := engine.Connect(t.Context(), engine.WithAddress(env.BuildkitHost), engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet),
		engine.WithEvents(func(ev engine.Event) {
			if ev.Kind == engine.StepLog && strings.HasPrefix(ev.Name, "exec mvn") {
				mu.Lock()
				mvnLog = append(mvnLog, ev.Line)
				mu.Unlock()
			}
		}))
	require.NoError(t, err)
	defer eng.Close()

	src := t.TempDir()
	require.NoError(t, os.CopyFS(src, os.DirFS("app")))
	image := func() *sdk.Container { return Image(Build(sdk.Host(src), sdk.Proxy{}), "e2e") }

	body, err := eng.Stdout(t.Context(), Smoke(image()))
	require.NoError(t, err)
	assert.Equal(t, "hello from tomcat, smoke\n", body)

	res, err := eng.Build(t.Context(), image())
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Ran, "an unchanged rebuild must be fully cached:\n%s", res.Summary)

	java := filepath.Join(src, "src/main/java/com/example/hello/HelloServlet.java")
	code, err := os.ReadFile(java)
	require.NoError(t, err)
	// The nonce keeps the change new to the engine's cache on every run.
	changed := strings.Replace(string(code), `"hello from tomcat, "`, `"hello again from tomcat, " /* `+strconv.FormatInt(time.Now().UnixNano(), 10)+` */`, 1)
	require.NotEqual(t, string(code), changed)
	require.NoError(t, os.WriteFile(java, []byte(changed), 0o644))

	mu.Lock()
	mvnLog = nil
	mu.Unlock()
	res, err = eng.Build(t.Context(), image())
	require.NoError(t, err)
	t.Logf("after a one-line change:\n%s", res.Summary)
	mu.Lock()
	log := strings.Join(mvnLog, "\n")
	mu.Unlock()
	require.Contains(t, log, "BUILD SUCCESS", "Maven must run again after a source change")
	assert.NotContains(t, log, "Downloading from", "dependencies must come from the ~/.m2 cache volume")

	body, err = eng.Stdout(t.Context(), Smoke(image()))
	require.NoError(t, err)
	assert.Equal(t, "hello again from tomcat, smoke\n", body)
}
