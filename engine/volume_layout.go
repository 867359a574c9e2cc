package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/internal/untar"
)

// layoutStore serves the blobs of an OCI layout directory to the engine,
// read-only: what a local save is read through. (containerd's own local
// store would also do, but it logs a warning on every filesystem without
// fs-verity.)
type layoutStore struct{ dir string }

var _ content.Store = layoutStore{}

func (s layoutStore) blob(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", errdefs.ErrInvalidArgument, err)
	}
	return filepath.Join(s.dir, ocispecs.ImageBlobsDir, d.Algorithm().String(), d.Encoded()), nil
}

// Info describes a blob.
func (s layoutStore) Info(_ context.Context, d digest.Digest) (content.Info, error) {
	p, err := s.blob(d)
	if err != nil {
		return content.Info{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return content.Info{}, fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
	}
	if err != nil {
		return content.Info{}, err
	}
	return content.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime(), UpdatedAt: fi.ModTime()}, nil
}

// ReaderAt opens a blob.
func (s layoutStore) ReaderAt(_ context.Context, desc ocispecs.Descriptor) (content.ReaderAt, error) {
	p, err := s.blob(desc.Digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return sizedFile{f, fi.Size()}, nil
}

type sizedFile struct {
	*os.File
	size int64
}

func (f sizedFile) Size() int64 { return f.size }

// Walk lists no blobs: the engine asks for blobs by digest.
func (layoutStore) Walk(context.Context, content.WalkFunc, ...string) error { return nil }

// Update, Delete, Writer, Status, ListStatuses and Abort are refused: the
// store is read-only.
func (layoutStore) Update(context.Context, content.Info, ...string) (content.Info, error) {
	return content.Info{}, errdefs.ErrNotImplemented
}

// Delete is refused: see Update.
func (layoutStore) Delete(context.Context, digest.Digest) error { return errdefs.ErrNotImplemented }

// Writer is refused: see Update.
func (layoutStore) Writer(context.Context, ...content.WriterOpt) (content.Writer, error) {
	return nil, errdefs.ErrNotImplemented
}

// Status is refused: see Update.
func (layoutStore) Status(context.Context, string) (content.Status, error) {
	return content.Status{}, errdefs.ErrNotImplemented
}

// ListStatuses is refused: see Update.
func (layoutStore) ListStatuses(context.Context, ...string) ([]content.Status, error) {
	return nil, errdefs.ErrNotImplemented
}

// Abort is refused: see Update.
func (layoutStore) Abort(context.Context, string) error { return errdefs.ErrNotImplemented }

// untarLayout writes the OCI layout archive the engine's OCI exporter
// streams into dir. Only regular files and directories are accepted, and
// no path may leave dir.
func untarLayout(r io.Reader, dir string) error {
	if err := untar.Extract(context.Background(), r, dir, false); err != nil {
		return fmt.Errorf("reading the saved layout: %w", err)
	}
	return nil
}
