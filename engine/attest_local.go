package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// localDigests returns the content digest of each host directory the
// build sends, keyed by its LLB local name: exactly the files the engine
// receives (include and exclude patterns, .dockerignore), so the
// provenance names what went into the build.
func localDigests(ctx context.Context, locals []lllb.LocalDir) (map[string]string, error) {
	out := make(map[string]string, len(locals))
	for _, l := range locals {
		d, err := localDigest(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("hashing host directory %s for the provenance: %w", l.Path, err)
		}
		out[l.Name] = d
	}
	return out, nil
}

// localDigest hashes one host directory: "sha256:…" over every entry's
// relative path, type and mode bits, symlink target and file content, in
// the walk's (lexical) order. Owners and times are left out: they are not
// what the build reads, and they differ between checkouts.
func localDigest(ctx context.Context, l lllb.LocalDir) (string, error) {
	dir, err := fsutil.NewFS(l.Path)
	if err != nil {
		return "", err
	}
	if len(l.Include) > 0 || len(l.Exclude) > 0 {
		if dir, err = fsutil.NewFilterFS(dir, &fsutil.FilterOpt{IncludePatterns: l.Include, ExcludePatterns: l.Exclude}); err != nil {
			return "", err
		}
	}
	h := sha256.New()
	err = dir.Walk(ctx, "", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*types.Stat)
		if !ok {
			return fmt.Errorf("%s: no file status", path)
		}
		fmt.Fprintf(h, "%s\x00%o\x00%s\x00", path, st.Mode, st.Linkname)
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := dir.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fh := sha256.New()
		if _, err := io.Copy(fh, f); err != nil {
			return err
		}
		fmt.Fprintf(h, "%x\x00", fh.Sum(nil))
		return nil
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
