package bundle

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ladingbuild/lading/internal/untar"
)

// Source is an image to put in a bundle: [Remote], [OCITarball] or
// [OCILayout], or all the images of another bundle ([Bundle]). Sources
// are values, safe for concurrent use.
type Source interface {
	// String names the source in errors.
	String() string
	// open resolves the images; close releases what they hold.
	open(ctx context.Context, o *options) (ops []*opened, close func(), err error)
}

// opened is a resolved source: its name in the bundle and the image or
// index to write.
type opened struct {
	name  reference.Named
	index v1.ImageIndex // or
	image v1.Image
}

// remoteSource reads an image from its registry.
type remoteSource struct{ ref string }

// Remote is the image at ref in its registry ("registry.example.com/
// app:1.0", "debian:bookworm", "app@sha256:…"), with every platform and
// attestation manifest its index holds. A reference without a tag means
// its "latest" tag. The bundle names it by its full reference.
func Remote(ref string) Source { return remoteSource{ref: ref} }

func (s remoteSource) String() string { return s.ref }

func (s remoteSource) open(ctx context.Context, o *options) ([]*opened, func(), error) {
	op, err := s.open1(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return []*opened{op}, func() {}, nil
}

func (s remoteSource) open1(ctx context.Context, o *options) (*opened, error) {
	n, err := normalize(s.ref)
	if err != nil {
		return nil, err
	}
	r, err := name.ParseReference(n.String(), o.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", s.ref, err)
	}
	desc, err := remote.Get(r, o.remoteOptions(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s from its registry: %w", n, err)
	}
	op := &opened{name: n}
	switch {
	case desc.MediaType.IsIndex():
		op.index, err = desc.ImageIndex()
	case desc.MediaType.IsImage():
		op.image, err = desc.Image()
	default:
		return nil, fmt.Errorf("%s is a %s, not an image or image index", n, desc.MediaType)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s from its registry: %w", n, err)
	}
	return op, nil
}

// layoutSource reads the one image of an OCI image layout.
type layoutSource struct {
	path, ref string
	tar       bool
}

// OCITarball is the image in the OCI image layout archive at path, as
// BuildKit's OCI exporter and [engine.OCITarball] write it: its index.json
// must name one image or image index. ref names it in the bundle; empty
// takes the name the archive gives it (io.containerd.image.name).
//
// [engine.OCITarball]: https://pkg.go.dev/github.com/ladingbuild/lading/engine#OCITarball
func OCITarball(path, ref string) Source { return layoutSource{path: path, ref: ref, tar: true} }

// OCILayout is the image in the OCI image layout directory dir; like
// [OCITarball] otherwise.
func OCILayout(dir, ref string) Source { return layoutSource{path: dir, ref: ref} }

func (s layoutSource) String() string { return s.path }

func (s layoutSource) open(ctx context.Context, _ *options) ([]*opened, func(), error) {
	dir, done := s.path, func() {}
	if s.tar {
		tmp, err := os.MkdirTemp("", "lading-bundle-src-")
		if err != nil {
			return nil, nil, err
		}
		done = func() { os.RemoveAll(tmp) }
		if err := extract(ctx, s.path, tmp); err != nil {
			done()
			return nil, nil, fmt.Errorf("reading %s: %w", s.path, err)
		}
		dir = tmp
	}
	op, err := s.image(dir)
	if err != nil {
		done()
		return nil, nil, err
	}
	return []*opened{op}, done, nil
}

// image reads the one image of the layout in dir.
func (s layoutSource) image(dir string) (*opened, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", s.path, err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", s.path, err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.path, err)
	}
	if len(im.Manifests) != 1 {
		var names []string
		for _, d := range im.Manifests {
			n := d.Annotations[AnnotationImageName]
			if n == "" {
				n = d.Annotations[AnnotationRefName]
			}
			if n == "" {
				n = d.Digest.String()
			}
			names = append(names, n)
		}
		return nil, fmt.Errorf("%s: index.json names %d images (%s), and a reference can name one: "+
			"give a layout holding the one you want (skopeo copy oci:%s:TAG oci:ONE:TAG), or add the whole layout without a reference if it names its images",
			s.path, len(im.Manifests), strings.Join(names, ", "), s.path)
	}
	d := im.Manifests[0]
	ref := s.ref
	if ref == "" {
		ref = d.Annotations[AnnotationImageName]
	}
	if ref == "" {
		return nil, fmt.Errorf("%s names no image (no %s annotation%s): give the reference to store it under "+
			"(lading bundle create OUT %s=REFERENCE)", s.path, AnnotationImageName, tagNote(d), s.path)
	}
	op, err := openEntry(top, d, ref)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.path, err)
	}
	return op, nil
}

// openEntry is the image or index an index.json entry names, as ref.
func openEntry(top v1.ImageIndex, d v1.Descriptor, ref string) (*opened, error) {
	n, err := normalize(ref)
	if err != nil {
		return nil, err
	}
	op := &opened{name: n}
	switch {
	case d.MediaType.IsIndex():
		op.index, err = top.ImageIndex(d.Digest)
	case d.MediaType.IsImage():
		op.image, err = top.Image(d.Digest)
	default:
		err = fmt.Errorf("its image %s is a %s, not an image or image index", ref, d.MediaType)
	}
	if err != nil {
		return nil, err
	}
	return op, nil
}

// bundleSource reads every image of a bundle.
type bundleSource struct{ path string }

// Bundle is every image of the bundle at path (a directory or a tar
// archive), under the names it gives them: to merge bundles, or to turn a
// directory bundle into a tar. The source bundle is verified first.
func Bundle(path string) Source { return bundleSource{path: path} }

func (s bundleSource) String() string { return s.path }

func (s bundleSource) open(ctx context.Context, _ *options) (_ []*opened, _ func(), err error) {
	dir, done, err := openDir(ctx, s.path)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	if _, err := scanPath(ctx, dir, s.path, true); err != nil {
		return nil, nil, err
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, err
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, nil, err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	var ops []*opened
	for i, d := range im.Manifests {
		ref := d.Annotations[AnnotationImageName]
		if ref == "" {
			return nil, nil, fmt.Errorf("index.json entry %d (%s) has no %s annotation: no name to store it under%s; "+
				"name it: lading bundle create OUT %s=REFERENCE, or bundle.OCILayout or bundle.OCITarball with a reference from Go",
				i+1, d.Digest, AnnotationImageName, tagNote(d), s.path)
		}
		op, err := openEntry(top, d, ref)
		if err != nil {
			return nil, nil, err
		}
		ops = append(ops, op)
	}
	return ops, done, nil
}

// extract unpacks the tar archive at path into dir.
func extract(ctx context.Context, path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := untar.Extract(ctx, f, dir, true); err != nil {
		return notATar(path, err)
	}
	return nil
}

// tagNote mentions the tag an entry has without a repository (what
// skopeo's oci:DIR:TAG writes), for errors that ask for a reference.
func tagNote(d v1.Descriptor) string {
	if t := d.Annotations[AnnotationRefName]; t != "" {
		return fmt.Sprintf(", only the tag %q", t)
	}
	return ""
}
