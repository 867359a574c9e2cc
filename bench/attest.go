package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
)

// The attest metric: what attestations cost. Cold builds of
// examples/multistage written as an OCI tarball (so that no registry is
// needed), interleaved on the same engine, cold as in the build metric (a
// unique go.mod comment per build, or a pruned engine):
//
//   - attest-overhead: with the default attestations (min provenance and
//     the host directories statement) / with none, the median of the
//     pairs' ratios;
//   - attest-cached: the same on a fully cached build, where the export
//     (and so the provenance) is all that happens;
//   - attest-push-overhead: with the default attestations of a pushed
//     image (min provenance, host directories and an SBOM) / with none,
//     the median of the pairs' ratios (the builds write OCI tarballs with
//     the SBOM asked for: the same work without a registry);
//   - sbom-seconds: what adding an SBOM costs on top, in seconds (the
//     median of the paired differences): one scan of the image, a fixed
//     cost that does not grow with the build. The scanner image is
//     LADING_TEST_SBOM_SCANNER (the test environment's), else BuildKit's
//     default.

const (
	attestColdTarget   = 1.15
	attestCachedTarget = 1.15
	sbomSecondsTarget  = 6.0
)

func runAttest(ctx context.Context, c *config) []Row {
	rows := []Row{
		newRow("attest-overhead", Seconds, Ratio, attestColdTarget),
		newRow("attest-cached", Seconds, Ratio, attestCachedTarget),
		newRow("sbom-seconds", Seconds, Absolute, sbomSecondsTarget),
		newRow("attest-push-overhead", Seconds, Ratio, attestColdTarget),
	}
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
	prov := []engine.Option{engine.WithProvenance(engine.ProvenanceMin), engine.WithoutSBOM()}
	none := []engine.Option{engine.WithProvenance(engine.ProvenanceOff), engine.WithoutSBOM()}
	both := []engine.Option{engine.WithProvenance(engine.ProvenanceMin), engine.WithSBOM(scanner)}
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
	for _, opts := range [][]engine.Option{both, prov, none} {
		if _, err := side(opts)(ctx, dir); err != nil {
			return failed(rows, err)
		}
	}
	var a, b []sideResult
	for i := range c.runs {
		x, err := side(prov)(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		y, err := side(none)(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		a, b = append(a, x), append(b, y)
		c.logf("attest cached run %d/%d: provenance %s, none %s", i+1, c.runs, formatValue(x.seconds, Seconds), formatValue(y.seconds, Seconds))
	}
	p := pair{secondsOf(a), secondsOf(b)}
	rows[1] = p.row("attest-cached", Seconds, Ratio, attestCachedTarget)
	rows[1].Note = fmt.Sprintf("the same, every step cached; provenance %s, none %s", spread(p.a, Seconds), spread(p.b, Seconds))

	var s []sideResult
	a, b = nil, nil
	for i := range c.runs {
		x, err := m.cold(ctx, "attest", side(prov))
		if err != nil {
			return failed(rows, err)
		}
		y, err := m.cold(ctx, "plain", side(none))
		if err != nil {
			return failed(rows, err)
		}
		z, err := m.cold(ctx, "sbom", side(both))
		if err != nil {
			return failed(rows, err)
		}
		a, b, s = append(a, x), append(b, y), append(s, z)
		c.logf("attest cold run %d/%d: provenance %s, none %s, provenance and SBOM %s", i+1, c.runs,
			formatValue(x.seconds, Seconds), formatValue(y.seconds, Seconds), formatValue(z.seconds, Seconds))
	}
	p = pair{secondsOf(a), secondsOf(b)}
	rows[0] = p.row("attest-overhead", Seconds, Ratio, attestColdTarget)
	rows[0].Note = fmt.Sprintf("examples/multistage to an OCI tarball with the default attestations (min provenance, host directories) vs none, cold; provenance %s, none %s",
		spread(p.a, Seconds), spread(p.b, Seconds))
	var extra []float64
	for i := range s {
		extra = append(extra, s[i].seconds-a[i].seconds)
	}
	rows[2] = Row{Name: "sbom-seconds", Unit: Seconds, Lading: median(extra), Peer: math.NaN(), Check: Absolute, Target: sbomSecondsTarget}
	rows[2].Note = fmt.Sprintf("an SBOM on top (scanner %s): paired cold builds with provenance and SBOM minus provenance only; with SBOM %s",
		scanner, spread(secondsOf(s), Seconds))
	p = pair{secondsOf(s), secondsOf(b)}
	rows[3] = p.row("attest-push-overhead", Seconds, Ratio, attestColdTarget)
	rows[3].Note = fmt.Sprintf("the default of a pushed image (min provenance, host directories, SBOM) vs none, cold; with %s, none %s",
		spread(p.a, Seconds), spread(p.b, Seconds))
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
