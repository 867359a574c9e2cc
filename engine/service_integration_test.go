package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// redisImage is a Debian stand-in image with Redis from Debian's packages.
func redisImage() *sdk.Container {
	return sdk.From("debian:bookworm").WithExec([]string{"sh", "-c",
		"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null"})
}

// redisService runs redis-server on the service's own loopback address.
func redisService(opts ...sdk.ServiceOption) *sdk.Service {
	return redisImage().
		WithEntrypoint("sh", "-c", `exec redis-server --bind "$LADING_SERVICE_HOST" --port 6379 --save "" --appendonly no`).
		AsService(append([]sdk.ServiceOption{sdk.ServicePorts(6379)}, opts...)...)
}

// redisClient runs script against the service bound as db.
func redisClient(svc *sdk.Service, script string) *sdk.Container {
	return redisImage().WithServiceBinding("db", svc).WithExec([]string{"sh", "-c", script})
}

func TestServiceRedis(t *testing.T) {
	e, _ := testEngine(t)
	cases := []struct {
		name string
		svc  *sdk.Service
	}{
		{"ports", redisService()},
		{"health check", redisService(sdk.HealthCheck("redis-cli", "-h", "db", "ping"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.Stdout(t.Context(), redisClient(tc.svc,
				"redis-cli -h db PING && redis-cli -h db SET greeting hello && redis-cli -h db GET greeting"))
			require.NoError(t, err)
			assert.Equal(t, "PONG\nOK\nhello\n", out)
		})
	}
}

func TestServiceBindingIsPartOfTheCacheKey(t *testing.T) {
	e, _ := testEngine(t)
	run := strconv.Itoa(rand.Int())
	boundStep := func(v string) *StepSummary {
		t.Helper()
		svc := redisService(sdk.ServiceEnv("RUN", run), sdk.ServiceEnv("VERSION", v))
		res, err := e.Build(t.Context(), redisClient(svc, "redis-cli -h db PING"))
		require.NoError(t, err)
		for i, s := range res.Summary.Steps {
			if s.Op == "exec" && strings.Contains(s.Name, "redis-cli") {
				return &res.Summary.Steps[i]
			}
		}
		require.FailNow(t, "no bound step", "steps: %+v", res.Summary.Steps)
		return nil
	}
	assert.False(t, boundStep("1").Cached, "first run")
	assert.True(t, boundStep("1").Cached, "same step, same service")
	assert.False(t, boundStep("2").Cached, "the service changed: the step runs again")
}

func TestServiceUnhealthy(t *testing.T) {
	e, _ := testEngine(t)
	cases := []struct {
		name, cmd, reason, log string
	}{
		{"never listens", "echo warming up; sleep 60", "not healthy after 1.5s", "warming up"},
		{"crashes", "echo cannot open data dir >&2; exit 3", "exited before it was healthy", "cannot open data dir"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := redisImage().WithEntrypoint("sh", "-c", tc.cmd).AsService(sdk.ServicePorts(6379), sdk.HealthTimeout(1500*time.Millisecond))
			_, _, line, _ := runtime.Caller(0) // the line after AsService
			start := time.Now()
			_, err := e.Build(t.Context(), redisClient(svc, "redis-cli -h db PING"))
			require.Error(t, err)
			assert.Less(t, time.Since(start), 30*time.Second)
			var se *ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "db", se.Alias)
			assert.Equal(t, fmt.Sprintf("service_integration_test.go:%d", line-1), filepath.Base(se.Location))
			assert.Contains(t, se.Reason, tc.reason)
			assert.Contains(t, strings.Join(se.Log, "\n"), tc.log)
			assert.Contains(t, err.Error(), `service "db"`)
			assert.Contains(t, err.Error(), tc.log)
		})
	}
}

func TestServiceExitsDuringStep(t *testing.T) {
	e, _ := testEngine(t)
	svc := redisImage().WithEntrypoint("sh", "-c", "echo serving; sleep 1; echo going away; exit 7").AsService()
	_, err := e.Build(t.Context(), redisClient(svc, "sleep 3; exit 1"))
	require.Error(t, err)
	var se *ServiceError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Reason, "exited while the step ran")
	assert.Contains(t, se.Log, "going away")
	var xe *ExecError
	require.ErrorAs(t, err, &xe, "the step's own failure is kept")
	assert.Equal(t, 1, xe.ExitCode)
}

func TestServiceConcurrent(t *testing.T) {
	e, _ := testEngine(t)
	// Warm the image so both builds start their services together.
	_, err := e.Build(t.Context(), redisImage())
	require.NoError(t, err)
	var wg sync.WaitGroup
	outs, errs := make([]string, 3), make([]error, 3)
	for i := range outs {
		wg.Go(func() {
			outs[i], errs[i] = e.Stdout(t.Context(), redisClient(redisService(),
				fmt.Sprintf("redis-cli -h db SET who %d >/dev/null && sleep 1 && redis-cli -h db GET who", i)))
		})
	}
	wg.Wait()
	for i := range outs {
		require.NoError(t, errs[i], "build %d", i)
		assert.Equal(t, fmt.Sprintf("%d\n", i), outs[i], "each build talks to its own server")
	}
}

func TestServiceStopsOnCancel(t *testing.T) {
	e, _ := testEngine(t)
	_, err := e.Build(t.Context(), redisImage())
	require.NoError(t, err)
	marker := fmt.Sprintf("%d.%03d", 100000+rand.IntN(800000), rand.IntN(1000))
	svc := redisImage().WithEntrypoint("sleep", marker).AsService()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := e.Build(ctx, redisClient(svc, "sleep 60"))
		done <- err
	}()
	require.Eventually(t, func() bool { return processWith("sleep", marker) }, 60*time.Second, 50*time.Millisecond, "the service never started")
	time.Sleep(500 * time.Millisecond)
	cancel()
	stopped := time.Now()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the build did not return after cancel")
	}
	require.Eventually(t, func() bool { return !processWith("sleep", marker) }, 2*time.Second, 20*time.Millisecond,
		"the service's process outlived the build")
	t.Logf("service gone %v after cancel", time.Since(stopped))
}

// processWith says whether a process on this host runs args (the engine
// runs on this machine in the test environment).
func processWith(args ...string) bool {
	want := strings.Join(args, "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err == nil && strings.TrimRight(string(b), "\x00") == want {
			return true
		}
	}
	return false
}

// An image without cat (a scratch image) gets its health check run all
// the same.
func TestServiceHealthCheckWithoutCat(t *testing.T) {
	e, _ := testEngine(t)
	lt := ltContainer(t)
	svc := lt.WithEntrypoint("/bin/lt", "sleep", "30").AsService(sdk.HealthCheck("/bin/lt", "exit", "0"), sdk.HealthTimeout(10*time.Second))
	out, err := e.Stdout(t.Context(), lt.WithServiceBinding("db", svc).WithExec([]string{"/bin/lt", "echo", "bound"}))
	require.NoError(t, err)
	assert.Equal(t, "bound\n", out)
}
