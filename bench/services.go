package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// The service-start metric: a build whose step talks to Redis run as a
// service bound to it (built, started in a gateway container, probed until
// healthy, stopped), against the same step starting the same server as a
// plain process inside itself and waiting until it answers. Both steps
// carry a nonce so that they run every time; both images come from the
// cache after a warm-up. The figure is the per-pair ratio of the builds'
// wall times.

// The service-bound-step metric: once the server is up, what binding a
// service adds to a step — the same `echo NONCE` step with Redis bound
// to it and without, each timed from the step's start (after the service
// is healthy) to the end of the build; the figure is the median of the
// per-pair differences, in seconds.

const (
	serviceStartTarget     = 1.5
	serviceBoundStepTarget = 0.3
)

// benchRedis is a Debian image with Redis from Debian's packages.
func benchRedis() *sdk.Container {
	return sdk.From("debian:bookworm").WithExec([]string{"sh", "-c",
		"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null"})
}

// serviceSide pings Redis bound as a service.
func serviceSide(nonce string) *sdk.Container {
	svc := benchRedis().
		WithEntrypoint("sh", "-c", `exec redis-server --bind "$LADING_SERVICE_HOST" --port 6379 --save "" --appendonly no`).
		AsService(sdk.ServicePorts(6379))
	return benchRedis().WithServiceBinding("db", svc).
		WithExec([]string{"sh", "-c", "redis-cli -h db PING >/dev/null && echo " + nonce})
}

// processSide starts Redis in the step itself and pings it.
func processSide(nonce string) *sdk.Container {
	return benchRedis().WithExec([]string{"sh", "-c", `redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
until redis-cli PING >/dev/null 2>&1; do sleep 0.02; done
redis-cli shutdown nosave >/dev/null 2>&1 || true
echo ` + nonce}, sdk.NoNetwork())
}

func runServiceStart(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("service-start", Seconds, Ratio, serviceStartTarget), newRow("service-bound-step", Seconds, Absolute, serviceBoundStepTarget)}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	nonce := func(side string, i int) string { return fmt.Sprintf("%s-%d-%d", side, i, time.Now().UnixNano()) }
	build := func(side string, v func(string) *sdk.Container) func(int) (float64, error) {
		return func(i int) (float64, error) {
			r, err := runLading(ctx, c, v(nonce(side, i)))
			if err == nil && r.ran < 1 {
				err = fmt.Errorf("%s: the step did not run", side)
			}
			return r.seconds, err
		}
	}
	// Warm-up: the image built, the service's container too.
	if _, err := build("warm-up", serviceSide)(0); err != nil {
		return failed(rows, err)
	}
	p, err := interleave(c.runs, build("service", serviceSide), build("process", processSide))
	if err != nil {
		return failed(rows, err)
	}
	for i := range p.a {
		c.logf("service-start run %d/%d: service %s, plain process %s", i+1, c.runs, formatValue(p.a[i], Seconds), formatValue(p.b[i], Seconds))
	}
	rows[0] = p.row("service-start", Seconds, Ratio, serviceStartTarget)
	rows[0].Note = fmt.Sprintf("lading column: a step pinging Redis bound as a service (started, probed healthy, stopped); peer column: the same step starting redis-server itself; service %s, process %s",
		spread(p.a, Seconds), spread(p.b, Seconds))
	rows[1] = boundStep(ctx, c, rows[1])
	return rows
}

// boundStep measures the service-bound-step row.
func boundStep(ctx context.Context, c *config, row Row) Row {
	svc := benchRedis().
		WithEntrypoint("sh", "-c", `exec redis-server --bind "$LADING_SERVICE_HOST" --port 6379 --save "" --appendonly no`).
		AsService(sdk.ServicePorts(6379))
	side := func(name string, bound bool) func(int) (float64, error) {
		return func(i int) (float64, error) {
			nonce := fmt.Sprintf("%s-%d-%d", name, i, time.Now().UnixNano())
			v := benchRedis()
			if bound {
				v = v.WithServiceBinding("db", svc)
			}
			return stepTail(ctx, c, v.WithExec([]string{"sh", "-c", "echo " + nonce}), nonce)
		}
	}
	p, err := interleave(c.runs, side("bound", true), side("plain", false))
	if err != nil {
		return failed([]Row{row}, err)[0]
	}
	var added []float64
	for i := range p.a {
		added = append(added, p.a[i]-p.b[i])
		c.logf("service-bound-step run %d/%d: from the step's start to the build's end: bound %s, plain %s", i+1, c.runs, formatValue(p.a[i], Seconds), formatValue(p.b[i], Seconds))
	}
	row.Lading = median(added)
	row.Note = fmt.Sprintf("what a bound Redis service adds to an `echo` step once it is healthy: the step's start to the build's end, bound minus not bound, median of %d pairs; bound %s, plain %s",
		len(added), spread(p.a, Seconds), spread(p.b, Seconds))
	return row
}

// stepTail builds v and returns the seconds from the start of its step
// whose name holds nonce to the end of the build.
func stepTail(ctx context.Context, c *config, v *sdk.Container, nonce string) (float64, error) {
	eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
	if err != nil {
		return 0, err
	}
	defer eng.Close()
	res, err := eng.Build(ctx, v)
	end := time.Now()
	if err != nil {
		return 0, err
	}
	for _, s := range res.Summary.Steps {
		if s.Op == "exec" && strings.Contains(s.Name, nonce) && !s.Cached {
			return end.Sub(s.Start).Seconds(), nil
		}
	}
	return 0, fmt.Errorf("the step %s did not run", nonce)
}
