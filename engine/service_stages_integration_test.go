package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// A service stops when its bound step ends: a later step of the same
// build that is not bound to it finds its address closed.
func TestServiceStopsWhenItsStepEnds(t *testing.T) {
	e, _ := testEngine(t)
	svc := redisService(sdk.ServiceEnv("RUN", uniqueTag(t)))
	bound := redisImage().WithServiceBinding("db", svc).
		WithExec([]string{"sh", "-c", "redis-cli -h db PING && getent hosts db | cut -d' ' -f1 > /db-addr"})
	after := redisImage().
		WithFile("/db-addr", bound.File("/db-addr")).
		WithExec([]string{"sh", "-c", `if redis-cli -h "$(cat /db-addr)" PING 2>/dev/null; then echo still-up; else echo stopped; fi`})
	out, err := e.Stdout(t.Context(), after)
	require.NoError(t, err)
	assert.Equal(t, "stopped\n", out, "the service ended with its step, before the next one ran")
}

// Services bound to steps of two branches, one feeding the other, each
// run for their own step: the step that reads the other branch's output
// finds its own service up and the other's stopped.
func TestServicesRunForTheirOwnSteps(t *testing.T) {
	e, _ := testEngine(t)
	tag := uniqueTag(t)
	first := redisImage().WithServiceBinding("one", redisService(sdk.ServiceEnv("RUN", "one-"+tag))).
		WithExec([]string{"sh", "-c", "redis-cli -h one PING && getent hosts one | cut -d' ' -f1 > /one-addr"})
	second := redisImage().
		WithFile("/one-addr", first.File("/one-addr")).
		WithServiceBinding("two", redisService(sdk.ServiceEnv("RUN", "two-"+tag))).
		WithExec([]string{"sh", "-c", `redis-cli -h two PING; if redis-cli -h "$(cat /one-addr)" PING 2>/dev/null; then echo one-up; else echo one-stopped; fi`})
	out, err := e.Stdout(t.Context(), second)
	require.NoError(t, err)
	assert.Equal(t, "PONG\none-stopped\n", out)
}

// Without the dials (an engine whose network lading does not share), the
// in-container probes alone find the service healthy.
func TestServiceHealthyByProbesAlone(t *testing.T) {
	e, _ := testEngine(t, func(s *settings) { s.noServiceDial = true })
	out, err := e.Stdout(t.Context(), redisClient(redisService(sdk.ServiceEnv("RUN", uniqueTag(t))), "redis-cli -h db PING"))
	require.NoError(t, err)
	assert.Equal(t, "PONG\n", out)
}
