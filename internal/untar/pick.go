package untar

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Pick writes chosen files of the archive r, and only those. For every
// entry, dest is called with the entry's name — cleaned, relative, with
// forward slashes ("usr/bin/buildkitd" for "./usr/bin/buildkitd") — and
// returns the file to write it to, or "" to skip it. The caller chooses
// every path written, so no entry can write outside it. A chosen entry
// that is not a regular file (a link, a device) or that is larger than
// limit bytes is an error naming it. Files are created with mode 0600;
// the caller sets the mode it wants.
//
// Pick reads r to its end, also after the last chosen entry, so that a
// reader that verifies a digest at EOF (a registry blob) has checked every
// byte Pick wrote. ctx is checked between entries.
func Pick(ctx context.Context, r io.Reader, limit int64, dest func(name string) string) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := EntryName(h.Name)
		if name == "" {
			continue
		}
		to := dest(name)
		if to == "" {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("archive entry %q is not a regular file (tar type %q)", h.Name, h.Typeflag)
		}
		if h.Size > limit {
			return fmt.Errorf("archive entry %q is %d bytes, more than the %d allowed", h.Name, h.Size, limit)
		}
		if err := writePicked(to, io.LimitReader(tr, limit)); err != nil {
			return err
		}
	}
	// The end of the tar stream is not the end of the reader: drain the
	// padding so a verifying reader reaches EOF.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return nil
}

// EntryName is the cleaned, relative, slash-separated form of a tar entry's
// name ("./usr/bin/x" and "/usr/bin/x" are "usr/bin/x"); "" for the root
// itself and for a name that leaves the archive ("../x").
func EntryName(name string) string {
	clean := strings.TrimLeft(path.Clean(name), "/")
	if clean == "" || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return ""
	}
	return clean
}

// writePicked writes one chosen file, replacing any file at to.
func writePicked(to string, r io.Reader) error {
	f, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", to, err)
	}
	return nil
}
