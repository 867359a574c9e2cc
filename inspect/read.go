package inspect

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	untarpkg "github.com/ladingbuild/lading/internal/untar"
)

// Option tunes [Read].
type Option func(*options)

type options struct {
	insecure bool
	keychain authn.Keychain
}

// Insecure reaches the registry over plain HTTP. Loopback and private
// addresses (127.0.0.1:5000, localhost:5000) are reached that way without it.
func Insecure() Option { return func(o *options) { o.insecure = true } }

// WithKeychain reads registry credentials from k instead of the Docker
// config ($DOCKER_CONFIG or ~/.docker, with its credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// Read reads target: the path of an OCI tarball when such a file exists,
// else a registry reference.
func Read(ctx context.Context, target string, opts ...Option) (*Image, error) {
	if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
		return OCITarball(ctx, target)
	}
	return Remote(ctx, target, opts...)
}

// Remote reads the image at ref from its registry.
func Remote(ctx context.Context, ref string, opts ...Option) (*Image, error) {
	o := options{keychain: authn.DefaultKeychain}
	for _, opt := range opts {
		opt(&o)
	}
	var nopts []name.Option
	if o.insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("inspect: image reference %q: %w", ref, err)
	}
	desc, err := remote.Get(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(o.keychain))
	if err != nil {
		return nil, fmt.Errorf("inspect: reading %s: %w", ref, err)
	}
	img := &Image{Ref: ref, Digest: desc.Digest.String(), MediaType: string(desc.MediaType)}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("inspect: reading %s: %w", ref, err)
		}
		err = readIndex(img, idx)
		return img, wrap(ref, err)
	}
	im, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("inspect: reading %s: %w", ref, err)
	}
	p, err := readImage(im, desc.Digest.String(), desc.Platform)
	if err != nil {
		return nil, wrap(ref, err)
	}
	img.Platforms = []Platform{p}
	return img, nil
}

// OCITarball reads the OCI image layout archive at path, as
// [engine.OCITarball] writes it. Its index.json must name one image or
// image index.
//
// [engine.OCITarball]: https://pkg.go.dev/github.com/ladingbuild/lading/engine#OCITarball
func OCITarball(ctx context.Context, path string) (*Image, error) {
	dir, err := os.MkdirTemp("", "lading-inspect-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := untar(ctx, path, dir); err != nil {
		return nil, fmt.Errorf("inspect: reading %s: %w", path, err)
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("inspect: %s is not an OCI image layout archive: %w", path, err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, wrap(path, err)
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("inspect: %s: index.json names %d manifests, want 1", path, len(im.Manifests))
	}
	d := im.Manifests[0]
	img := &Image{Ref: path, Digest: d.Digest.String(), MediaType: string(d.MediaType)}
	if d.MediaType.IsIndex() {
		idx, err := top.ImageIndex(d.Digest)
		if err != nil {
			return nil, wrap(path, err)
		}
		return img, wrap(path, readIndex(img, idx))
	}
	one, err := top.Image(d.Digest)
	if err != nil {
		return nil, wrap(path, err)
	}
	p, err := readImage(one, d.Digest.String(), d.Platform)
	if err != nil {
		return nil, wrap(path, err)
	}
	img.Platforms = []Platform{p}
	return img, nil
}

func wrap(ref string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("inspect: reading %s: %w", ref, err)
}

// untar extracts the archive at path into dir; entries that would leave
// dir are refused.
func untar(ctx context.Context, path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return untarpkg.Extract(ctx, f, dir, true)
}

// platformString formats p as "os/arch[/variant]".
func platformString(p *v1.Platform) string {
	if p == nil {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
