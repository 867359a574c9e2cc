package untar

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Extract writes the regular files and directories of the archive r into
// dir. An entry whose path leaves dir is an error; so is any other kind of
// entry (links, devices), unless skipOther is set, when it is left out.
// ctx is checked between entries.
func Extract(ctx context.Context, r io.Reader, dir string, skipOther bool) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		clean := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q leaves the archive", h.Name)
		}
		dest := filepath.Join(dir, clean)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(dest, tr); err != nil {
				return err
			}
		default:
			if !skipOther {
				return fmt.Errorf("archive entry %q is not a file or directory", h.Name)
			}
		}
	}
}

// writeFile writes one regular file's contents.
func writeFile(dest string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r) //nolint:gosec // an image archive's blobs are as large as the image
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	return nil
}
