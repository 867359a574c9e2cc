package engine

import (
	"context"
	"fmt"

	"github.com/containerd/platforms"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// lading runs the SBOM scanner itself, in the gateway, the way BuildKit's
// Dockerfile frontend does (BuildKit's sbom.CreateSBOMScanner): the
// scanner image is resolved while the main graph solves, each platform's
// root filesystem is scanned, and the scan's output is attached as a
// bundle of in-toto attestations, which the image exporter unpacks as it
// does buildx's. Doing it here rather than through the daemon's
// attest:sbom processor lets a default SBOM fall back: a scanner that
// cannot be resolved or run leaves the image without an SBOM, with one
// warning, instead of failing the push.

// sbomRun is the SBOM preflight asked for.
type sbomRun struct {
	mode   sbomMode
	params map[string]string // BUILDKIT_SCAN_* settings for the scanner
}

// pendingScanner is the scanner, resolved in the background.
type pendingScanner struct {
	done    chan struct{}
	cancel  context.CancelFunc
	scanner sbom.Scanner
	err     error
}

// abandon stops resolving the scanner (the build failed) and waits until
// it has stopped; nil does nothing.
func (s *pendingScanner) abandon() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// resolveScanner starts resolving the scanner image in the build's
// session (its credentials, mirrors and source policy), for the engine's
// own platform, so that it is known when the main graph is solved.
func (r *run) resolveScanner(ctx context.Context, c gateway.Client) *pendingScanner {
	if r.attest.sbom == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &pendingScanner{done: make(chan struct{}), cancel: cancel}
	p := scannerPlatform(c)
	go func() {
		defer close(s.done)
		s.scanner, s.err = sbom.CreateSBOMScanner(ctx, c, r.attest.sbom.mode.scanner, p, sourceresolver.Opt{
			LogName:  "[lading] resolving the SBOM scanner " + r.attest.sbom.mode.scanner,
			ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p},
		}, r.attest.sbom.params)
	}()
	return s
}

// scannerPlatform is the platform the scanner runs on: the engine's.
func scannerPlatform(c gateway.Client) ocispecs.Platform {
	for _, w := range c.BuildOpts().Workers {
		if len(w.Platforms) > 0 {
			return platforms.Normalize(w.Platforms[0])
		}
	}
	return platforms.Normalize(platforms.DefaultSpec())
}

// attachSBOM scans each platform's image of res and attaches the SBOM.
// A default SBOM that cannot be made is a warning; one the user asked for
// fails the build.
func (r *run) attachSBOM(ctx context.Context, c gateway.Client, s *pendingScanner, res *gateway.Result) error {
	<-s.done
	defer s.cancel()
	err := s.err
	if err == nil {
		err = r.scan(ctx, c, s.scanner, res)
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	scanner := r.attest.sbom.mode.scanner
	if r.attest.sbom.mode.asked {
		return fmt.Errorf("making the SBOM with the scanner image %s: %w; name a scanner the engine can pull (engine.WithSBOM, LADING_SBOM=IMAGE) or build without an SBOM (engine.WithoutSBOM, LADING_SBOM=off)", quote(scanner), bounded(err))
	}
	r.warnf("published without an SBOM: the scanner image %s could not be used (%v); mirror it and name it with engine.WithSBOM or LADING_SBOM=IMAGE, or silence this with LADING_SBOM=off", quote(scanner), bounded(err))
	return nil
}

// scan runs the scanner on every platform of res and attaches its output;
// res is left as it was when a scan fails.
func (r *run) scan(ctx context.Context, c gateway.Client, scanner sbom.Scanner, res *gateway.Result) error {
	ps, err := exptypes.ParsePlatforms(res.Metadata)
	if err != nil {
		return err
	}
	type found struct {
		id  string
		att result.Attestation[gateway.Reference]
	}
	var atts []found
	for _, p := range ps.Platforms {
		ref, ok := res.FindRef(p.ID)
		if !ok || ref == nil {
			continue
		}
		st, err := ref.ToState()
		if err != nil {
			return err
		}
		att, err := scanner(ctx, p.ID, st, nil)
		if err != nil {
			return err
		}
		solved, err := result.ConvertAttestation(&att, func(st *bkllb.State) (gateway.Reference, error) {
			def, err := st.Marshal(ctx)
			if err != nil {
				return nil, err
			}
			// Evaluated here, so that a scanner that cannot be pulled
			// or fails is known before the export.
			sres, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
			if err != nil {
				return nil, err
			}
			return sres.SingleRef()
		})
		if err != nil {
			return err
		}
		atts = append(atts, found{p.ID, *solved})
	}
	for _, a := range atts {
		res.AddAttestation(a.id, a.att)
	}
	return nil
}
