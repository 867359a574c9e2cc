package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ladingbuild/lading/sdk"
)

// The parallelism metric: two independent stages that each sleep 3
// seconds, brought together in one build (a scratch container with a file
// from each), against one stage alone. Each stage echoes a unique nonce so
// that it is never cached. Both are lading builds: the figure is how close
// to one stage's time the pair finishes, not a comparison with a peer.

const (
	parallelTarget = 1.3
	stageSleep     = 3 * time.Second
)

func sleepStage(name, nonce string) *sdk.Container {
	return sdk.From("debian:bookworm-slim").
		WithExec([]string{"sh", "-c", fmt.Sprintf("sleep %g && echo %s > /%s", stageSleep.Seconds(), nonce, name)})
}

func twoStages(nonce string) *sdk.Container {
	return sdk.Scratch().
		WithFile("/a", sleepStage("a", nonce).File("/a")).
		WithFile("/b", sleepStage("b", nonce).File("/b"))
}

func oneStage(nonce string) *sdk.Container {
	return sdk.Scratch().WithFile("/a", sleepStage("a", nonce).File("/a"))
}

func runParallel(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("parallel", Seconds, Ratio, parallelTarget)}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	nonce := func(side string, i int) string { return fmt.Sprintf("%s-%d-%d", side, i, time.Now().UnixNano()) }
	build := func(side string, v func(string) *sdk.Container, want int) func(int) (float64, error) {
		return func(i int) (float64, error) {
			r, err := runLading(ctx, c, v(nonce(side, i)))
			if err == nil && r.ran < want {
				err = fmt.Errorf("%s: only %d steps ran, want at least %d", side, r.ran, want)
			}
			return r.seconds, err
		}
	}
	// Warm-up: the base image resolved and unpacked.
	if _, err := build("warm-up", oneStage, 1)(0); err != nil {
		return failed(rows, err)
	}
	p, err := interleave(c.runs, build("two", twoStages, 2), build("one", oneStage, 1))
	if err != nil {
		return failed(rows, err)
	}
	for i := range p.a {
		c.logf("parallel run %d/%d: two stages %s, one stage %s", i+1, c.runs, formatValue(p.a[i], Seconds), formatValue(p.b[i], Seconds))
	}
	rows[0] = p.row("parallel", Seconds, Ratio, parallelTarget)
	rows[0].Note = fmt.Sprintf("lading column: two independent %s stages in one engine.Build; peer column: one stage alone (also lading); two %s, one %s",
		stageSleep, spread(p.a, Seconds), spread(p.b, Seconds))
	return rows
}
