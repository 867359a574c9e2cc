package sdk

import (
	"path"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/ladingbuild/lading/internal/llb"
)

// File is a single file: from a container, a directory or a download. It is
// immutable and safe for concurrent use.
type File struct {
	m *llb.File
}

// Name is the file's base name.
func (f *File) Name() string {
	if f == nil || f.m == nil {
		return ""
	}
	return path.Base(f.m.Path)
}

// HTTP downloads a file and verifies it against checksum ("sha256:<hex>"):
// the checksum pins the content, so the download is cached and
// reproducible.
//
// An empty checksum leaves the content to the lock, as a base image's tag
// does: a live build downloads whatever the server sends now; with the
// lock (engine.WithLock, `lading lock update` records each URL's sha256)
// a pinned build verifies the download against the recorded checksum and
// a frozen one refuses a URL the lock does not record. Lint reports a
// download without a checksum that no lock records (download-unverified).
func HTTP(url, checksum string, opts ...FileOption) *File {
	loc := caller()
	fail := func(err error) *File { return &File{&llb.File{Err: err}} }
	if !validURL(url) || checkText(loc, "HTTP", "url", url) != nil {
		return fail(llb.Invalid(loc, "HTTP", "url", llb.Quote(url)+" is not an http(s) URL", `give a full URL, e.g. "https://example.com/tool.tar.gz"`))
	}
	if checksum != "" {
		if _, err := digest.Parse(checksum); err != nil {
			return fail(llb.Invalid(loc, "HTTP", "checksum", llb.Quote(checksum)+": "+llb.Shorten(strings.ReplaceAll(err.Error(), checksum, "it")), `write it as "sha256:" followed by 64 hex digits, or pass "" to leave the content to lading.lock`))
		}
	}
	o, err := fileOptions(loc, "HTTP", opts, 0o644)
	if err != nil {
		return fail(err)
	}
	name := path.Base(url)
	if name == "" || name == "/" || name == "." {
		name = "download"
	}
	op := &llb.HTTPOp{URL: url, Checksum: checksum, Filename: name}
	if o.set {
		op.Mode = o.mode
	}
	return &File{&llb.File{Root: &llb.Node{Op: op, Loc: loc}, Path: "/" + name}}
}
