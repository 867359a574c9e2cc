package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
)

// HostDirectoriesPredicate is the predicate type of the in-toto statement
// lading attaches beside BuildKit's provenance: the content digest of each
// host directory the build read. BuildKit's provenance names host
// directories only (externalParameters.request.locals[].name); this
// statement gives their content under the same names.
const HostDirectoriesPredicate = "https://ladingbuild.dev/attestations/host-directories/v1"

// HostDirectories is the predicate of a [HostDirectoriesPredicate]
// statement.
type HostDirectories struct {
	// Directories are sorted by name.
	Directories []HostDirectory `json:"directories"`
}

// HostDirectory is one host directory a build read.
type HostDirectory struct {
	// Name is BuildKit's name for it, as in the provenance's
	// externalParameters.request.locals.
	Name string `json:"name"`
	// Digest is "sha256:…" over the files the engine received (include
	// and exclude patterns and .dockerignore applied): each one's path,
	// mode, symlink target and content, in lexical order.
	Digest string `json:"digest"`
}

// attestRun is what preflight decided for one build.
type attestRun struct {
	// hosts is the host directories statement to attach, or nil.
	hosts *HostDirectories
	// sbom is the SBOM to make (attest_sbom.go), or nil.
	sbom *sbomRun
}

// attested wraps the build function: before anything is solved it checks
// the capabilities the engine reports and starts resolving the SBOM
// scanner; it attaches the host directories statement and the SBOM to
// every platform's image of the result.
func (r *run) attested(fn gateway.BuildFunc) gateway.BuildFunc {
	return func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		fail := func(err error) (*gateway.Result, error) {
			r.mu.Lock()
			r.fnErr = err
			r.mu.Unlock()
			return nil, err
		}
		if err := r.checkCaps(ctx, c); err != nil {
			return fail(err)
		}
		scanner := r.resolveScanner(ctx, c)
		res, err := fn(ctx, c)
		if err != nil || res == nil {
			scanner.abandon()
			return res, err
		}
		if scanner != nil {
			if err := r.attachSBOM(ctx, c, scanner, res); err != nil {
				return fail(err)
			}
		}
		if r.attest.hosts != nil {
			if err := r.attachHosts(ctx, c, res); err != nil {
				return fail(err)
			}
		}
		return res, nil
	}
}

// attachHosts solves a file holding the host directories predicate and
// attaches it, as an in-toto attestation, to each platform of res.
func (r *run) attachHosts(ctx context.Context, c gateway.Client, res *gateway.Result) error {
	dt, err := json.Marshal(r.attest.hosts)
	if err != nil {
		return err
	}
	const name = "lading-host-directories.json"
	def, err := bkllb.Scratch().File(bkllb.Mkfile("/"+name, 0o644, dt), bkllb.WithCustomName("[lading] recording host directories for the provenance")).Marshal(ctx)
	if err != nil {
		return err
	}
	sres, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return fmt.Errorf("recording host directories for the provenance: %w", err)
	}
	ref, err := sres.SingleRef()
	if err != nil {
		return err
	}
	ps, err := exptypes.ParsePlatforms(res.Metadata)
	if err != nil {
		return err
	}
	for _, p := range ps.Platforms {
		res.AddAttestation(p.ID, gateway.Attestation{
			Kind: gatewaypb.AttestationKind_InToto,
			Ref:  ref,
			Path: "/" + name,
			InToto: result.InTotoAttestation{
				PredicateType: HostDirectoriesPredicate,
			},
		})
	}
	return nil
}

// hostDirectories makes the statement from the digests by name.
func hostDirectories(digests map[string]string) *HostDirectories {
	if len(digests) == 0 {
		return nil
	}
	h := &HostDirectories{}
	for n, d := range digests {
		h.Directories = append(h.Directories, HostDirectory{Name: n, Digest: d})
	}
	slices.SortFunc(h.Directories, func(a, b HostDirectory) int { return strings.Compare(a.Name, b.Name) })
	return h
}
