package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
)

// The attest metric: what provenance and an SBOM cost. Paired cold builds
// of examples/multistage written as an OCI tarball (so that no registry is
// needed), one with min provenance and an SBOM, one with neither,
// interleaved, on the same engine; cold as in the build metric (a unique
// go.mod comment per build, or a pruned engine). The scanner image is
// LADING_TEST_SBOM_SCANNER (the test environment's), else BuildKit's
// default. The ratio is with / without, the median of the pairs' ratios.
//
// attest-cached is the same on a fully cached build, where the export
// (and so the provenance) is all that happens.

const (
	attestColdTarget   = 1.15
	attestCachedTarget = 1.15
)

func runAttest(ctx context.Context, c *config) []Row {
	cold := newRow("attest-overhead", Seconds, Ratio, attestColdTarget)
	cached := newRow("attest-cached", Seconds, Ratio, attestCachedTarget)
	rows := []Row{cold, cached}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	m, err := newMultistage(c)
	if err != nil {
		return failed(rows, err)
	}
	scanner := os.Getenv("LADING_TEST_SBOM_SCANNER")
	if scanner == "" {
		scanner = engine.DefaultSBOMScanner
	}
	with := []engine.Option{engine.WithProvenance(engine.ProvenanceMin), engine.WithSBOM(scanner)}
	without := []engine.Option{engine.WithProvenance(engine.ProvenanceOff), engine.WithoutSBOM()}
	side := func(opts []engine.Option) func(context.Context, string) (sideResult, error) {
		return func(ctx context.Context, dir string) (sideResult, error) {
			if name, err := ladingLocalName(ctx, dir); err == nil {
				c.ownLocal(name)
			}
			return exportLading(ctx, c, graph.Image(graph.Build(sdk.Host(dir), benchProxy()), "dev"), opts)
		}
	}

	// Warm-up: pulls the base images and the scanner.
	dir, err := m.context("")
	if err != nil {
		return failed(rows, err)
	}
	defer os.RemoveAll(dir)
	for _, opts := range [][]engine.Option{with, without} {
		if _, err := side(opts)(ctx, dir); err != nil {
			return failed(rows, err)
		}
	}
	var a, b []sideResult
	for i := range c.runs {
		x, err := side(with)(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		y, err := side(without)(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		a, b = append(a, x), append(b, y)
		c.logf("attest cached run %d/%d: with %s, without %s", i+1, c.runs, formatValue(x.seconds, Seconds), formatValue(y.seconds, Seconds))
	}
	p := pair{secondsOf(a), secondsOf(b)}
	rows[1] = p.row("attest-cached", Seconds, Ratio, attestCachedTarget)
	rows[1].Note = fmt.Sprintf("the same, every step cached; with %s, without %s", spread(p.a, Seconds), spread(p.b, Seconds))

	a, b = nil, nil
	for i := range c.runs {
		x, err := m.cold(ctx, "attest", side(with))
		if err != nil {
			return failed(rows, err)
		}
		y, err := m.cold(ctx, "plain", side(without))
		if err != nil {
			return failed(rows, err)
		}
		a, b = append(a, x), append(b, y)
		c.logf("attest cold run %d/%d: with %s, without %s", i+1, c.runs, formatValue(x.seconds, Seconds), formatValue(y.seconds, Seconds))
	}
	p = pair{secondsOf(a), secondsOf(b)}
	rows[0] = p.row("attest-overhead", Seconds, Ratio, attestColdTarget)
	rows[0].Note = fmt.Sprintf("examples/multistage to an OCI tarball with min provenance and an SBOM (%s) vs neither, cold; with %s, without %s",
		scanner, spread(p.a, Seconds), spread(p.b, Seconds))
	return rows
}

// exportLading builds v with opts into an OCI tarball under the work
// directory, timing connect, build and export.
func exportLading(ctx context.Context, c *config, v *sdk.Container, opts []engine.Option) (sideResult, error) {
	tar := filepath.Join(c.work, "attest.tar")
	defer os.Remove(tar)
	var res *engine.Result
	secs, err := timed(func() error {
		eng, err := engine.Connect(ctx, append([]engine.Option{engine.WithAddress(c.addr), engine.Silent(), engine.WithProgress(engine.ProgressQuiet)}, opts...)...)
		if err != nil {
			return err
		}
		defer eng.Close()
		res, err = eng.Build(ctx, v, engine.OCITarball(tar))
		return err
	})
	if err != nil {
		return sideResult{}, fmt.Errorf("lading: %w", err)
	}
	return sideResult{seconds: secs, ran: res.Summary.Ran, cached: res.Summary.Cached}, nil
}
