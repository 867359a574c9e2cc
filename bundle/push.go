package bundle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Pushed is an image [Push] loaded into a registry.
type Pushed struct {
	// Ref is the image's reference in the bundle, Target where it was
	// pushed ("site.example.com:5000/lading/app:1.0").
	Ref, Target string
	// Digest is its index or manifest digest, the same in the bundle and
	// in the registry.
	Digest string
}

// Push verifies the bundle at path (as [Verify] does; a damaged bundle is
// not pushed), then loads every image into registry under its repository
// path and tag: "docker.io/library/debian:bookworm" goes to
// registry+"/library/debian:bookworm", "registry.example.com/team/app:1.0"
// to registry+"/team/app:1.0". registry is a host ("site.example.com:5000")
// optionally followed by a path prefix ("site.example.com/mirror").
// Manifests are pushed as stored, so every digest is kept. A blob shared
// by several images is uploaded once: images go one after the other, and
// a blob already pushed to another repository is mounted from there.
func Push(ctx context.Context, path, registry string, opts ...Option) ([]Pushed, error) {
	o := makeOptions(opts)
	if err := checkRegistry(registry); err != nil {
		return nil, err
	}
	dir, done, err := openDir(ctx, path)
	if err != nil {
		return nil, prefix(err)
	}
	defer done()
	if _, err := scanPath(ctx, dir, path, true); err != nil {
		return nil, notPushing(path, err)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, prefix(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, prefix(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, prefix(err)
	}
	if len(im.Manifests) == 0 {
		return nil, fmt.Errorf("bundle %s holds no images: nothing to push; add images with lading bundle create -add (bundle.Add)", path)
	}
	// One image after the other, so that each blob is uploaded once and
	// mounted into the other repositories that need it.
	mnt := newMounts()
	var pushed []Pushed
	for i, d := range im.Manifests {
		target, err := retarget(d, registry, o)
		if err != nil {
			return pushed, fmt.Errorf("bundle %s: index.json entry %d: %w", path, i+1, err)
		}
		t, err := taggable(top, d)
		if err != nil {
			return pushed, fmt.Errorf("bundle %s: %s: %w", path, d.Annotations[AnnotationImageName], err)
		}
		if err := remote.Push(target, mnt.wrap(t), o.remoteOptions(ctx)...); err != nil {
			if ctx.Err() != nil {
				return pushed, ctx.Err()
			}
			return pushed, fmt.Errorf("bundle: pushing %s to %s: %w", d.Annotations[AnnotationImageName], target, err)
		}
		mnt.pushed(t, target)
		pushed = append(pushed, Pushed{Ref: d.Annotations[AnnotationImageName], Target: target.String(), Digest: d.Digest.String()})
	}
	return pushed, nil
}

// checkRegistry refuses a registry argument that is not a host with an
// optional path.
func checkRegistry(registry string) error {
	fix := "name the registry host and an optional path, e.g. site.example.com:5000 or site.example.com/mirror"
	if registry == "" {
		return errors.New("bundle: no registry to push to; " + fix)
	}
	if strings.Contains(registry, "://") {
		return fmt.Errorf("bundle: registry %q has a scheme; %s (plain HTTP: bundle.Insecure, lading bundle push -insecure)", registry, fix)
	}
	if strings.ContainsAny(registry, "@") {
		return fmt.Errorf("bundle: registry %q names a digest: not a registry host with an optional path; %s", registry, fix)
	}
	if _, err := name.NewRepository(strings.TrimSuffix(registry, "/")+"/x", name.StrictValidation); err != nil {
		return fmt.Errorf("bundle: registry %q: not a registry host with an optional path (%w); %s", registry, err, fix)
	}
	return nil
}

// retarget is where the bundle entry d goes in registry: its repository
// path and tag (or digest, when it has no tag).
func retarget(d v1.Descriptor, registry string, o *options) (name.Reference, error) {
	ref := d.Annotations[AnnotationImageName]
	if ref == "" {
		return nil, fmt.Errorf("image %s has no %s annotation%s, so there is no repository to push it to; "+
			"name it in a new bundle: lading bundle create OUT BUNDLE=REFERENCE (bundle.OCILayout with a reference from Go)", d.Digest, AnnotationImageName, tagNote(d))
	}
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	repo := strings.TrimSuffix(registry, "/") + "/" + reference.Path(n)
	s := repo + "@" + d.Digest.String()
	if t, ok := n.(reference.Tagged); ok {
		s = repo + ":" + t.Tag()
	}
	r, err := name.ParseReference(s, append(o.nameOptions(), name.StrictValidation)...)
	if err != nil {
		return nil, fmt.Errorf("image %s: target %q: %w", ref, s, err)
	}
	return r, nil
}

// taggable is the image or index of the entry d.
func taggable(top v1.ImageIndex, d v1.Descriptor) (remote.Taggable, error) {
	switch {
	case d.MediaType.IsIndex():
		return top.ImageIndex(d.Digest)
	case d.MediaType.IsImage():
		return top.Image(d.Digest)
	}
	return nil, fmt.Errorf("a %s is neither an image nor an image index", d.MediaType)
}

// notPushing says a bundle that does not verify is not pushed.
func notPushing(path string, err error) error {
	var be *BlobError
	if errors.As(err, &be) {
		return fmt.Errorf("bundle: not pushing %s: %w", path, err)
	}
	// A bundle that is not one at all: its error says so, prefixed once.
	return err
}
