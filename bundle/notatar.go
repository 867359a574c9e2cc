package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// notATar explains a tar reader's failure on the file at path: a file
// that is not a tar archive at all, a compressed one (carried gzipped, a
// bundle must be unpacked first) or one cut short. Other errors are
// returned as they are.
func notATar(path string, err error) error {
	if !errors.Is(err, tar.ErrHeader) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	head := make([]byte, 4)
	if f, ferr := os.Open(path); ferr == nil {
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		f.Close()
	}
	for _, c := range []struct {
		magic      []byte
		name, tool string
	}{
		{[]byte{0x1f, 0x8b}, "gzip", "gunzip"},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd}, "zstd", "unzstd"},
		{[]byte("BZh"), "bzip2", "bunzip2"},
		{[]byte{0xfd, '7', 'z', 'X'}, "xz", "unxz"},
	} {
		if bytes.HasPrefix(head, c.magic) {
			return fmt.Errorf("%s is %s-compressed: a tar bundle is read uncompressed; unpack it first (%s) and name the .tar (%w)", path, c.name, c.tool, err)
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s ends in the middle of a tar entry: the file is cut short or is not a tar archive; copy it again from where it was made (%w)", path, err)
	}
	return fmt.Errorf("%s is not a tar archive (%w): a bundle is a directory holding index.json, or a tar of one (lading bundle create)", path, err)
}
