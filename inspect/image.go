package inspect

// Image is what [Read] found at a reference or in a tarball.
type Image struct {
	// Ref is what was read: the reference or the tarball's path.
	Ref string
	// Digest is the digest of the top-level manifest or index
	// ("sha256:…"): what a registry serves for Ref.
	Digest string
	// MediaType is the top-level manifest's media type.
	MediaType string
	// Platforms are the images it holds, one per platform, in the
	// index's order; attestation manifests are not listed here but under
	// the platform they describe.
	Platforms []Platform
}

// Platform is one platform's image and what is attached to it.
type Platform struct {
	// Platform is "os/arch[/variant]", e.g. "linux/amd64".
	Platform string
	// Digest is the image manifest's digest: the same for two builds of
	// the same program and inputs with the same epoch, whatever their
	// attestations hold.
	Digest string
	// Config is the image's config.
	Config Config
	// Attestations are every in-toto statement attached to this image.
	Attestations []Attestation
	// Provenance is the SLSA provenance among them, or nil.
	Provenance *Provenance
	// SBOM is the SPDX SBOM among them, or nil.
	SBOM *SBOM
}

// Config is the part of an image's config a reader checks.
type Config struct {
	Created      string            // RFC 3339
	User         string            // USER
	WorkingDir   string            // WORKDIR
	Entrypoint   []string          // ENTRYPOINT
	Cmd          []string          // CMD
	Env          []string          // ENV, "K=V"
	Labels       map[string]string // LABEL
	ExposedPorts []string          // EXPOSE, "8080/tcp", sorted
	Layers       int               // number of layers
}

// Attestation is one in-toto statement as stored.
type Attestation struct {
	// PredicateType is the statement's predicate type
	// ("https://slsa.dev/provenance/v1", "https://spdx.dev/Document").
	PredicateType string
	// Digest is the digest of the layer holding the statement.
	Digest string
	// Statement is the whole statement's JSON, as stored.
	Statement []byte
}

// Provenance summarizes a SLSA provenance predicate (v1, or v0.2 as older
// BuildKit writes it).
type Provenance struct {
	// PredicateType is the SLSA version's predicate type.
	PredicateType string
	// BuildType is BuildKit's build type URI.
	BuildType string
	// Frontend is the frontend that ran ("" for a gateway client such as
	// lading).
	Frontend string
	// Materials are the resolved dependencies: base images (pkg:docker/…
	// with their digests), Git and HTTP sources.
	Materials []Material
	// Locals are the host directories the build read, by BuildKit's name,
	// with lading's content digest when lading built the image.
	Locals []Local
	// Args are the request's arguments (frontend attributes).
	Args map[string]string
	// InvocationID, StartedOn and FinishedOn are build-specific: they
	// differ between two builds of the same image.
	InvocationID          string
	StartedOn, FinishedOn string
	// Complete says whether BuildKit considers the materials complete.
	Complete bool
	// HasBuildConfig says the predicate holds the build graph (max mode).
	HasBuildConfig bool
}

// Material is a resolved dependency of a build.
type Material struct {
	URI    string
	Digest map[string]string // algorithm → hex
}

// Local is a host directory a build read.
type Local struct {
	Name   string `json:"name"`
	Digest string `json:"digest"` // "sha256:…" of its content, "" if not recorded
}

// SBOM summarizes an SPDX document.
type SBOM struct {
	// PredicateType is the statement's predicate type.
	PredicateType string
	// Name is the document's name; SPDXVersion its version ("SPDX-2.3").
	Name, SPDXVersion string
	// Packages are the packages it lists.
	Packages []Package
}

// Package is one package an SBOM lists.
type Package struct {
	Name, Version string
	// PURL is the package URL ("pkg:deb/debian/bash@5.2.15-2?arch=amd64"),
	// or "".
	PURL string
}
