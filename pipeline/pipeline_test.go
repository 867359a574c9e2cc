package pipeline

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// offline returns a pipeline whose engine is nil: these tests are about
// scheduling, not building.
func offline() (*Pipeline, *bytes.Buffer) {
	p := New("test")
	var out bytes.Buffer
	p.Output(&out)
	p.connect = func(context.Context, ...engine.Option) (*engine.Engine, error) { return nil, nil }
	return p, &out
}

func TestDependenciesRunFirst(t *testing.T) {
	p, out := offline()
	var mu sync.Mutex
	var ran []string
	step := func(name string) RunFunc {
		return func(context.Context, *engine.Engine) error {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, name)
			return nil
		}
	}
	p.Target("test", "", step("test"))
	p.Target("build", "", step("build"), "test")
	p.Target("publish", "", step("publish"), "build")
	require.NoError(t, p.Run(t.Context(), []string{"publish"}))
	assert.Equal(t, []string{"test", "build", "publish"}, ran)
	assert.Contains(t, out.String(), "publish")
}

func TestIndependentTargetsRunConcurrently(t *testing.T) {
	p, _ := offline()
	wait := func(context.Context, *engine.Engine) error { time.Sleep(300 * time.Millisecond); return nil }
	p.Target("a", "", wait)
	p.Target("b", "", wait)
	start := time.Now()
	require.NoError(t, p.Run(t.Context(), []string{"a", "b"}))
	assert.Less(t, time.Since(start), 550*time.Millisecond)
}

func TestFailureSkipsDependents(t *testing.T) {
	p, out := offline()
	boom := errors.New("boom")
	ranPublish := false
	p.Target("test", "", func(context.Context, *engine.Engine) error { return boom })
	p.Target("publish", "", func(context.Context, *engine.Engine) error { ranPublish = true; return nil }, "test")
	err := p.Run(t.Context(), []string{"publish"})
	require.ErrorIs(t, err, boom)
	assert.False(t, ranPublish)
	assert.Contains(t, out.String(), "skipped")
	assert.Contains(t, out.String(), "FAILED")
}

func TestBadUsage(t *testing.T) {
	p, _ := offline()
	p.Target("a", "", nil, "b")
	p.Target("b", "", nil, "a")
	require.ErrorIs(t, p.Run(t.Context(), []string{"nope"}), errUsage)
	err := p.Run(t.Context(), []string{"a"})
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, err.Error(), "a -> b -> a")
}

func TestFlagsAndDefault(t *testing.T) {
	p, _ := offline()
	tag := p.Flags().String("tag", "", "")
	got := ""
	p.Target("build", "", func(context.Context, *engine.Engine) error { got = *tag; return nil })
	p.Target("other", "", func(context.Context, *engine.Engine) error { return errors.New("not me") })
	p.Default("build")
	require.NoError(t, p.Run(t.Context(), []string{"-tag", "x:1"}))
	assert.Equal(t, "x:1", got)
}

func TestImageTargets(t *testing.T) {
	p, _ := offline()
	p.ImageTargets(Image{Name: "app", Build: func() *sdk.Container { return sdk.Scratch() }})
	err := p.Run(t.Context(), []string{"publish"})
	require.ErrorIs(t, err, engine.ErrNoEngine, "with no engine the target fails with ErrNoEngine, not a panic")
	require.ErrorContains(t, err, "target build")
	p, out := offline()
	p.ImageTargets(Image{Name: "app", Build: func() *sdk.Container { return sdk.Scratch() }})
	p.flags.SetOutput(out)
	require.ErrorIs(t, p.Run(t.Context(), []string{"-h"}), flag.ErrHelp)
	for _, want := range []string{"build", "publish", "export", "-oci", "-docker", "-publish", "[default]"} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), "smoke", "no smoke target without a Smoke function")
}

func TestPanickingTargetBecomesAnError(t *testing.T) {
	p, _ := offline()
	p.Target("boom", "", func(context.Context, *engine.Engine) error { panic("kaboom") })
	err := p.Run(t.Context(), []string{"boom"})
	require.ErrorContains(t, err, "target boom panicked")
	require.ErrorContains(t, err, "kaboom")
}
