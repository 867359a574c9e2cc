package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
)

// The annotations BuildKit puts on an attestation manifest in an index.
const (
	refTypeAnnotation   = "vnd.docker.reference.type"
	refDigestAnnotation = "vnd.docker.reference.digest"
	attestationManifest = "attestation-manifest"
)

// maxManifest bounds the size of a manifest or index read into memory.
const maxManifest = 8 << 20

// scanner walks a bundle's images from index.json through every index,
// manifest, config and layer, checking each blob once.
type scanner struct {
	ctx  context.Context
	fsys fs.FS  // the layout
	name string // the bundle, for errors
	hash bool   // check digests, not only presence and size

	seen     map[string]*BlobError // checked blobs: nil when fine
	order    []*BlobError          // problems in the order found
	total    int64
	contents *Contents
}

func (s *scanner) err() error { return joinProblems(s.order) }

// scan reads index.json and walks each image.
func (s *scanner) scan() (*Contents, error) {
	raw, err := fs.ReadFile(s.fsys, "index.json")
	if errors.Is(err, fs.ErrNotExist) {
		if _, merr := fs.Stat(s.fsys, "manifest.json"); merr == nil {
			return nil, fmt.Errorf("%s is not a bundle: it has manifest.json and no index.json, an image archive of docker save (before Docker 25); "+
				"convert it to an OCI layout first (skopeo copy docker-archive:%s oci:DIR:TAG) and add that with lading bundle create OUT DIR=REFERENCE", s.name, s.name)
		}
		return nil, fmt.Errorf("%s is not a bundle: it has no index.json; name a bundle (a directory or a tar made by lading bundle create, or any OCI image layout)", s.name)
	}
	if err != nil {
		return nil, err
	}
	top, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", s.name, err)
	}
	s.contents = &Contents{}
	for i, d := range top.Manifests {
		img := &Image{Ref: d.Annotations[AnnotationImageName], Digest: d.Digest.String(), MediaType: string(d.MediaType)}
		if img.Ref == "" {
			img.Ref = d.Annotations[AnnotationRefName]
		}
		if img.Ref == "" {
			img.Ref = fmt.Sprintf("index.json entry %d (no name)", i+1)
		}
		w := &imageWalk{s: s, img: img, mine: map[string]bool{}}
		if err := w.visit(d, "", nil); err != nil {
			return nil, err
		}
		s.contents.Images = append(s.contents.Images, *img)
	}
	s.contents.Blobs = len(s.seen)
	s.contents.Size = s.total
	return s.contents, nil
}

// imageWalk is the walk of one image.
type imageWalk struct {
	s    *scanner
	img  *Image
	mine map[string]bool // blobs counted in img.Size
}

// visit checks the blob d and, for indexes and manifests, what they name.
// what says what d is ("" for the image itself); plat is the platform
// it belongs to, when known; its size is added to *plat.
func (w *imageWalk) visit(d v1.Descriptor, what string, plat *Platform) error {
	if err := w.s.ctx.Err(); err != nil {
		return err
	}
	key := d.Digest.String()
	if !w.mine[key] {
		w.mine[key] = true
		w.img.Size += d.Size
	}
	if plat != nil {
		plat.Size += d.Size
	}
	if what == "" {
		what = "image " + string(d.MediaType)
		if d.MediaType.IsIndex() {
			what = "image index"
		} else if d.MediaType.IsImage() {
			what = "image manifest"
		}
	}
	data, ok := w.s.check(d, what, w.img.Ref)
	if !ok || data == nil {
		return nil
	}
	switch {
	case d.MediaType.IsIndex():
		return w.index(d, data)
	case d.MediaType.IsImage():
		return w.manifest(d, data, what, plat)
	}
	return nil
}

// index walks the manifests an index names.
func (w *imageWalk) index(d v1.Descriptor, data []byte) error {
	im, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		w.s.problem(d, "image index", w.img.Ref, Unreadable, err.Error())
		return nil
	}
	names := map[string]string{}
	for _, m := range im.Manifests {
		if m.Platform != nil {
			names[m.Digest.String()] = platformString(m.Platform)
		}
	}
	for _, m := range im.Manifests {
		if m.Annotations[refTypeAnnotation] == attestationManifest {
			w.img.Attestations++
			of := m.Annotations[refDigestAnnotation]
			if n, ok := names[of]; ok {
				of = n
			}
			if err := w.visit(m, "attestation manifest for "+of, nil); err != nil {
				return err
			}
			continue
		}
		if m.MediaType.IsIndex() {
			if err := w.visit(m, "nested index", nil); err != nil {
				return err
			}
			continue
		}
		p := Platform{Platform: platformString(m.Platform), Digest: m.Digest.String()}
		if err := w.visit(m, "manifest "+p.Platform, &p); err != nil {
			return err
		}
		w.img.Platforms = append(w.img.Platforms, p)
	}
	return nil
}

// manifest walks an image manifest's config and layers. For a manifest
// that is the image itself, it records the platform its config names.
func (w *imageWalk) manifest(d v1.Descriptor, data []byte, what string, plat *Platform) error {
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		w.s.problem(d, what, w.img.Ref, Unreadable, err.Error())
		return nil
	}
	top := plat == nil && what == "image manifest"
	if top {
		plat = &Platform{Digest: d.Digest.String(), Size: d.Size, Platform: w.s.configPlatform(m.Config)}
	}
	of := what
	if plat != nil && plat.Platform != "" {
		of = plat.Platform
	}
	if err := w.visit(m.Config, "config of "+of, plat); err != nil {
		return err
	}
	for i, l := range m.Layers {
		if isForeign(l) {
			continue
		}
		if err := w.visit(l, fmt.Sprintf("layer %d of %s", i+1, of), plat); err != nil {
			return err
		}
	}
	if top {
		w.img.Platforms = append(w.img.Platforms, *plat)
	}
	return nil
}

// isForeign reports a layer that registries do not carry (Windows base
// layers named by URL).
func isForeign(l v1.Descriptor) bool {
	return len(l.URLs) > 0 && (l.MediaType == types.DockerForeignLayer ||
		l.MediaType == types.OCIRestrictedLayer || l.MediaType == types.OCIUncompressedRestrictedLayer)
}

// check checks the blob d once per bundle: present, of its size and, when
// hashing, of its digest. It returns the blob's content when d is an
// index or manifest, and whether the blob is fine.
func (s *scanner) check(d v1.Descriptor, what, image string) ([]byte, bool) {
	key := d.Digest.String()
	if p, done := s.seen[key]; done {
		if p != nil {
			return nil, false
		}
		if !d.MediaType.IsIndex() && !d.MediaType.IsImage() {
			return nil, true
		}
	}
	data, prob, detail := s.read(d)
	if _, done := s.seen[key]; !done {
		if prob != 0 {
			s.problem(d, what, image, prob, detail)
			return nil, false
		}
		s.seen[key] = nil
		s.total += d.Size
	}
	return data, prob == 0
}

func (s *scanner) problem(d v1.Descriptor, what, image string, p Problem, detail string) {
	e := &BlobError{Bundle: s.name, Digest: d.Digest.String(), Size: d.Size, What: what, Image: image, Problem: p, Detail: detail}
	if _, done := s.seen[e.Digest]; !done {
		s.total += d.Size
	}
	s.seen[e.Digest] = e
	s.order = append(s.order, e)
}

// read opens the blob d and checks it, returning its content when it is
// an index or manifest.
func (s *scanner) read(d v1.Descriptor) ([]byte, Problem, string) {
	dg, err := digest.Parse(d.Digest.String())
	if err != nil || !dg.Algorithm().Available() {
		return nil, Unreadable, fmt.Sprintf("digest %q is not one this program can check", d.Digest)
	}
	f, err := s.fsys.Open(path.Join("blobs", dg.Algorithm().String(), dg.Encoded()))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Missing, "no file blobs/" + dg.Algorithm().String() + "/" + dg.Encoded()
	}
	if err != nil {
		return nil, Unreadable, err.Error()
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, Unreadable, err.Error()
	}
	if fi.Size() != d.Size {
		return nil, WrongSize, fmt.Sprintf("the file has %d bytes, the descriptor says %d", fi.Size(), d.Size)
	}
	keep := d.MediaType.IsIndex() || d.MediaType.IsImage()
	if keep && d.Size > maxManifest {
		return nil, Unreadable, fmt.Sprintf("%d bytes is too large for a manifest", d.Size)
	}
	if !keep && !s.hash {
		return nil, 0, ""
	}
	var buf bytes.Buffer
	var r io.Reader = f
	if keep {
		r = io.TeeReader(f, &buf)
	}
	if !s.hash {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, Unreadable, err.Error()
		}
		return buf.Bytes(), 0, ""
	}
	h := dg.Algorithm().Hash()
	if _, err := io.Copy(h, r); err != nil {
		return nil, Unreadable, err.Error()
	}
	if got := digest.NewDigest(dg.Algorithm(), h); got != dg {
		return nil, WrongDigest, "its content hashes to " + got.String()
	}
	return buf.Bytes(), 0, ""
}

// configPlatform reads the platform an image config names.
func (s *scanner) configPlatform(d v1.Descriptor) string {
	dg, err := digest.Parse(d.Digest.String())
	if err != nil || d.Size > maxManifest {
		return ""
	}
	raw, err := fs.ReadFile(s.fsys, path.Join("blobs", dg.Algorithm().String(), dg.Encoded()))
	if err != nil {
		return ""
	}
	var cf struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if json.Unmarshal(raw, &cf) != nil || cf.OS == "" {
		return ""
	}
	return platformString(&v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant})
}

// platformString formats p as "os/arch[/variant]".
func platformString(p *v1.Platform) string {
	if p == nil {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
