package engine

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
)

// Provenance says how much SLSA provenance BuildKit attaches to the images
// a build exports (see [WithProvenance] and docs/provenance.md).
type Provenance uint8

const (
	// ProvenanceMin, the default, records the build's materials (base
	// images by digest, Git and HTTP sources), its host directories (by
	// name, with the digest of their content), its target platform and
	// its build-specific times — but not the build graph.
	ProvenanceMin Provenance = iota
	// ProvenanceMax adds the whole build graph (every step and its
	// arguments) and the layers each step made. A build that sets proxy
	// variables gets ProvenanceMin instead, with a warning: the graph
	// holds the proxy URLs, which may carry a password.
	ProvenanceMax
	// ProvenanceOff attaches no provenance.
	ProvenanceOff
)

// String returns the mode's name as LADING_PROVENANCE spells it.
func (p Provenance) String() string {
	switch p {
	case ProvenanceMin:
		return "min"
	case ProvenanceMax:
		return "max"
	case ProvenanceOff:
		return "off"
	}
	return fmt.Sprintf("Provenance(%d)", uint8(p))
}

// DefaultSBOMScanner is the scanner image that makes the SBOMs of
// published images by default, and the one [WithSBOM] runs when given "":
// BuildKit's syft scanner, the one buildx uses.
const DefaultSBOMScanner = "docker/buildkit-syft-scanner:stable-1"

// attestSettings are the attestation options of an engine.
type attestSettings struct {
	provenance    Provenance
	provenanceSet bool
	sbom          string // scanner image; "" means no SBOM
	sbomSet       bool
	// defaultScanner replaces DefaultSBOMScanner for the default SBOM
	// (tests: a scanner that cannot be resolved).
	defaultScanner string
}

// sbomMode is what the settings say about SBOMs.
type sbomMode struct {
	// scanner is the scanner image; "" means no SBOM.
	scanner string
	// asked: the user asked for SBOMs (WithSBOM, LADING_SBOM=on or an
	// image), so a scanner that cannot run fails the build, and OCI
	// tarballs get one too. Without it the SBOM is the default: made for
	// registry pushes only, and left out with a warning when the scanner
	// cannot be resolved or run.
	asked bool
}

func (m sbomMode) String() string {
	switch {
	case m.scanner == "":
		return ""
	case m.asked:
		return m.scanner
	}
	return "default:" + m.scanner
}

// WithProvenance sets how much SLSA v1 provenance (BuildKit's own) is
// attached to the images a build pushes ([Registry], [Engine.Publish]) or
// writes as an OCI tarball ([OCITarball]); the default is [ProvenanceMin].
// Without the option, LADING_PROVENANCE (min, max or off) decides. Docker
// tarballs and local outputs never carry attestations. A build option:
// Connect and With.
func WithProvenance(mode Provenance) Option {
	return func(s *settings) {
		s.only("WithProvenance", forBuilds, "it is a build option")
		if mode > ProvenanceOff {
			if s.err == nil {
				s.err = fmt.Errorf("engine.WithProvenance: unknown mode %d; use engine.ProvenanceMin, ProvenanceMax or ProvenanceOff", mode)
			}
			return
		}
		s.attest.provenance, s.attest.provenanceSet = mode, true
	}
}

// WithSBOM attaches an SPDX SBOM to every image a build pushes or writes
// as an OCI tarball, one per platform, as buildx does: the scanner image
// runs on the image's root filesystem (BuildKit's scanner protocol) and
// what it writes is attached as an in-toto attestation. scanner "" means
// [DefaultSBOMScanner]. A scanner asked for this way must run: a build
// whose scanner cannot be pulled fails, naming it.
//
// Without the option, LADING_SBOM decides: "on" (the default scanner,
// asked for), "off", or a scanner image reference. Without either,
// images pushed to a registry ([Registry], [Engine.Publish]) get an SBOM
// from [DefaultSBOMScanner] by default; when that scanner cannot be
// resolved or run (an air-gapped site), the image is pushed without one
// and the build warns ([Summary.Warnings]). A build option: Connect and
// With.
func WithSBOM(scanner string) Option {
	return func(s *settings) {
		s.only("WithSBOM", forBuilds, "it is a build option")
		if scanner == "" {
			scanner = DefaultSBOMScanner
		}
		if err := checkScanner(scanner); err != nil {
			if s.err == nil {
				s.err = fmt.Errorf("engine.WithSBOM: %w", err)
			}
			return
		}
		s.attest.sbom, s.attest.sbomSet = scanner, true
	}
}

// WithoutSBOM attaches no SBOM, whatever LADING_SBOM says. A build
// option: Connect and With.
func WithoutSBOM() Option {
	return func(s *settings) {
		s.only("WithoutSBOM", forBuilds, "it is a build option")
		s.attest.sbom, s.attest.sbomSet = "", true
	}
}

// modes resolves the options against LADING_PROVENANCE and LADING_SBOM.
func (a attestSettings) modes() (Provenance, sbomMode, error) {
	prov, sbom := a.provenance, sbomMode{scanner: a.sbom, asked: a.sbom != ""}
	if !a.provenanceSet {
		switch v := strings.TrimSpace(os.Getenv("LADING_PROVENANCE")); strings.ToLower(v) {
		case "", "min", "1", "true", "on":
			prov = ProvenanceMin
		case "max", "full":
			prov = ProvenanceMax
		case "off", "0", "false", "none":
			prov = ProvenanceOff
		default:
			return 0, sbomMode{}, fmt.Errorf("LADING_PROVENANCE=%s: want min, max or off", quote(v))
		}
	}
	if !a.sbomSet {
		switch v := strings.TrimSpace(os.Getenv("LADING_SBOM")); strings.ToLower(v) {
		case "":
			sbom = sbomMode{scanner: cmp.Or(a.defaultScanner, DefaultSBOMScanner)}
		case "off", "0", "false", "none":
			sbom = sbomMode{}
		case "on", "1", "true":
			sbom = sbomMode{scanner: DefaultSBOMScanner, asked: true}
		default:
			if err := checkScanner(v); err != nil {
				return 0, sbomMode{}, fmt.Errorf("LADING_SBOM=%s: want on, off or a scanner image: %w", quote(v), err)
			}
			sbom = sbomMode{scanner: v, asked: true}
		}
	}
	return prov, sbom, nil
}

// checkScanner checks that ref is an image reference.
func checkScanner(ref string) error {
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		return fmt.Errorf("scanner image %s: %w", quote(ref), bounded(err))
	}
	return nil
}

// attestable says whether the exports can carry attestations: at least
// one image or OCI export, and nothing BuildKit would write them into as
// files (a local directory) or refuse them for (a Docker tarball). The
// reason is set when attestations are dropped for a mix of outputs.
func attestable(exports []*export) (ok bool, reason string) {
	var image bool
	for _, x := range exports {
		switch x.entry.Type {
		case client.ExporterImage, client.ExporterOCI:
			image = true
		case client.ExporterDocker:
			reason = "a Docker tarball or DockerLoad/PodmanLoad cannot hold them"
		case client.ExporterLocal:
			reason = "a LocalPath output would receive them as files"
		}
	}
	if !image {
		return false, ""
	}
	return reason == "", reason
}

// preflight runs after the session phase, before the solve: it asks for
// the attestations the settings want, then checks the engine has what the
// build needs.
func (r *run) preflight(ctx context.Context) error {
	if err := r.requestAttestations(ctx); err != nil {
		return err
	}
	return r.checkEngine(ctx)
}

// requestAttestations decides the attestations the settings want: it sets
// BuildKit's attest:provenance frontend attribute, hashes the host
// directories for the statement [run.attested] attaches beside the
// provenance, and says which scanner makes the SBOM ([run.attested] runs
// it in the gateway: attest_sbom.go).
func (r *run) requestAttestations(ctx context.Context) error {
	prov, sbom, err := r.e.s.attest.modes()
	if err != nil {
		return err
	}
	if sbom.scanner != "" && !sbom.asked && !pushes(r.exports) {
		sbom = sbomMode{} // the default SBOM is for published images
	}
	if prov == ProvenanceOff && sbom.scanner == "" {
		return nil
	}
	ok, reason := attestable(r.exports)
	if !ok {
		if reason != "" {
			r.warnf("no provenance or SBOM attached: %s; build the image and the other output separately to get them", reason)
		}
		return nil
	}
	if prov != ProvenanceOff {
		if prov == ProvenanceMax && r.pre.UsesProxy {
			r.warnf("provenance is min, not max: a step sets proxy variables, and max provenance would record them (their URLs may carry a password)")
			prov = ProvenanceMin
		}
		r.opt.FrontendAttrs["attest:provenance"] = "mode=" + prov.String() + ",version=v1"
		digests, err := localDigests(ctx, r.pre.Locals)
		if err != nil {
			return err
		}
		r.attest.hosts = hostDirectories(digests)
	}
	if sbom.scanner != "" {
		r.attest.sbom = &sbomRun{mode: sbom, params: map[string]string{}}
		if r.epoch != nil {
			// The scanner sees BUILDKIT_SCAN_SOURCE_DATE_EPOCH: lading's
			// test scanner dates the document with it; others ignore it.
			r.attest.sbom.params["SOURCE_DATE_EPOCH"] = strconv.FormatInt(r.epoch.Unix(), 10)
		}
	}
	return nil
}

// pushes says whether one of the exports pushes an image to a registry.
func pushes(exports []*export) bool {
	for _, x := range exports {
		if x.entry.Type == client.ExporterImage {
			return true
		}
	}
	return false
}

// attestKey describes the attestation settings, for the result key of a
// skipped build (explain.go's exportKey): a build that would attach other
// attestations than the previous one is not the same result. A bad
// setting describes itself; the build reports it.
func (a attestSettings) attestKey() string {
	prov, sbom, err := a.modes()
	if err != nil {
		return "attest " + err.Error()
	}
	return "attest provenance=" + prov.String() + " sbom=" + sbom.String()
}
