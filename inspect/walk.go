package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The annotations BuildKit puts on an attestation manifest in an index.
const (
	refTypeAnnotation   = "vnd.docker.reference.type"
	refDigestAnnotation = "vnd.docker.reference.digest"
	attestationManifest = "attestation-manifest"
	predicateAnnotation = "in-toto.io/predicate-type"
)

// readIndex fills img.Platforms from idx: each image, then the
// attestation manifests matched to the image they point at.
func readIndex(img *Image, idx v1.ImageIndex) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	byDigest := map[string]int{}
	var attests []v1.Descriptor
	for _, d := range im.Manifests {
		if d.Annotations[refTypeAnnotation] == attestationManifest {
			attests = append(attests, d)
			continue
		}
		if d.MediaType.IsIndex() {
			continue // nested indexes are not what BuildKit writes
		}
		one, err := idx.Image(d.Digest)
		if err != nil {
			return fmt.Errorf("image %s: %w", d.Digest, err)
		}
		p, err := readImage(one, d.Digest.String(), d.Platform)
		if err != nil {
			return err
		}
		byDigest[p.Digest] = len(img.Platforms)
		img.Platforms = append(img.Platforms, p)
	}
	for _, d := range attests {
		i, ok := byDigest[d.Annotations[refDigestAnnotation]]
		if !ok {
			continue
		}
		am, err := idx.Image(d.Digest)
		if err != nil {
			return fmt.Errorf("attestation manifest %s: %w", d.Digest, err)
		}
		if err := readAttestations(&img.Platforms[i], am); err != nil {
			return fmt.Errorf("attestation manifest %s: %w", d.Digest, err)
		}
	}
	return nil
}

// readImage reads one image's config.
func readImage(im v1.Image, dgst string, plat *v1.Platform) (Platform, error) {
	cf, err := im.ConfigFile()
	if err != nil {
		return Platform{}, fmt.Errorf("image %s: config: %w", dgst, err)
	}
	p := Platform{Platform: platformString(plat), Digest: dgst}
	if p.Platform == "" {
		p.Platform = platformString(cf.Platform())
	}
	c := cf.Config
	p.Config = Config{
		User: c.User, WorkingDir: c.WorkingDir,
		Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, Labels: c.Labels,
		Layers: len(cf.RootFS.DiffIDs),
	}
	if !cf.Created.IsZero() {
		p.Config.Created = cf.Created.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	for port := range c.ExposedPorts {
		p.Config.ExposedPorts = append(p.Config.ExposedPorts, port)
	}
	slices.Sort(p.Config.ExposedPorts)
	return p, nil
}

// statement is an in-toto statement, with its predicate left raw.
type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// readAttestations reads the in-toto statements of an attestation
// manifest into p.
func readAttestations(p *Platform, am v1.Image) error {
	m, err := am.Manifest()
	if err != nil {
		return err
	}
	var hosts []json.RawMessage
	for _, l := range m.Layers {
		if l.MediaType != types.MediaType("application/vnd.in-toto+json") {
			continue
		}
		layer, err := am.LayerByDigest(l.Digest)
		if err != nil {
			return err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return err
		}
		dt, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		var st statement
		if err := json.Unmarshal(dt, &st); err != nil {
			return fmt.Errorf("layer %s is not an in-toto statement: %w", l.Digest, err)
		}
		pt := st.PredicateType
		if pt == "" {
			pt = l.Annotations[predicateAnnotation]
		}
		p.Attestations = append(p.Attestations, Attestation{PredicateType: pt, Digest: l.Digest.String(), Statement: dt})
		switch {
		case isProvenance(pt) && p.Provenance == nil:
			if p.Provenance, err = parseProvenance(pt, st.Predicate); err != nil {
				return fmt.Errorf("provenance in layer %s: %w", l.Digest, err)
			}
		case pt == PredicateHostDirectories:
			hosts = append(hosts, st.Predicate)
		case isSPDX(pt) && p.SBOM == nil:
			if p.SBOM, err = parseSPDX(pt, st.Predicate); err != nil {
				return fmt.Errorf("SBOM in layer %s: %w", l.Digest, err)
			}
		}
	}
	if p.Provenance != nil {
		for _, h := range hosts {
			if err := addHostDigests(p.Provenance, h); err != nil {
				return fmt.Errorf("host directories statement: %w", err)
			}
		}
	}
	return nil
}
