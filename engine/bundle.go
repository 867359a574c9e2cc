package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"

	"github.com/ladingbuild/lading/bundle"
	lllb "github.com/ladingbuild/lading/internal/llb"
)

// bundleOutput adds the built image to an offline bundle.
type bundleOutput struct {
	path, ref string
}

// Bundle adds the built container image to the offline bundle at path (see
// package [bundle]; a directory, or a tar archive when path ends in
// ".tar"), named ref ("registry.example.com/app:1.0": the repository path
// and tag `lading bundle push` loads it under). The bundle is created when
// there is none; an image it already holds under ref is replaced, and the
// blobs it shares with the bundle's other images are stored once. The
// image carries every platform built and its attestations. Like the other
// file outputs, it is atomic: the bundle changes only when the build
// succeeded, and then all at once.
//
// [bundle]: https://pkg.go.dev/github.com/ladingbuild/lading/bundle
func Bundle(path, ref string) Output { return &bundleOutput{path: path, ref: ref} }

func (o *bundleOutput) prepare(e *Engine, p *lllb.Program) (*export, error) {
	if o.path == "" {
		return nil, fmt.Errorf("engine.Bundle: no bundle path; name one, e.g. engine.Bundle(\"images.tar\", \"registry.example.com/app:1.0\")")
	}
	if p.Kind != lllb.KindContainer {
		return nil, fmt.Errorf("engine.Bundle: the value built is not a container: a bundle holds images; use engine.LocalPath for files and directories")
	}
	n, err := parseTagged(o.ref)
	if err != nil {
		return nil, fmt.Errorf("engine.Bundle: %w", err)
	}
	if _, ok := n.(reference.Digested); ok {
		// The digest of an image not yet built cannot be known: the
		// bundle would name the image by a digest it does not have.
		return nil, fmt.Errorf("engine.Bundle: image reference %q names a digest: a bundle names a built image by its tag, e.g. %s:1.0 (its digest is in Result.Digest and lading bundle ls)",
			o.ref, reference.TrimNamed(n).String())
	}
	dest, err := filepath.Abs(o.path)
	if err != nil {
		return nil, err
	}
	// Before the build, not after it: a path that holds something else
	// would be refused once the image is built.
	if err := bundle.CheckTarget(context.Background(), dest); err != nil {
		return nil, fmt.Errorf("engine.Bundle: %w", err)
	}
	attrs := map[string]string{string(exptypes.OptKeyName): reference.TagNameOnly(n).String()}
	addAnnotations(attrs, p)
	var tmp string
	create := func(map[string]string) (io.WriteCloser, error) {
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".image-*.tar")
		if err != nil {
			return nil, err
		}
		tmp = f.Name()
		return f, nil
	}
	commit := func() error {
		if tmp == "" {
			return fmt.Errorf("writing the bundle %s: the engine sent no image", dest)
		}
		defer os.Remove(tmp)
		// The image is on disk already: adding it is local file work that
		// the build's context no longer governs.
		_, err := bundle.Add(context.Background(), dest, []bundle.Source{bundle.OCITarball(tmp, n.String())})
		return err
	}
	return &export{
		entry:   client.ExportEntry{Type: client.ExporterOCI, Attrs: attrs, Output: create},
		commit:  commit,
		cleanup: func() { os.Remove(tmp) },
	}, nil
}
