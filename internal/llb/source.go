package llb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	bkllb "github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
)

// image compiles a base image, pinned to the digest the resolver found.
func (c *compiler) image(n *Node, op *ImageOp) (bkllb.State, error) {
	b, err := c.resolve(op, n.Loc)
	if err != nil {
		return bkllb.State{}, err
	}
	ref := op.Ref
	if b.digest != "" && !strings.Contains(ref, "@") {
		ref += "@" + b.digest
	}
	c.bases[ref] = struct{}{}
	return bkllb.Image(ref, bkllb.Platform(c.platform(op.Platform)), c.record(n, "from "+op.Given, []string{op.Given})), nil
}

// resolve returns the base image's digest and config, looked up once per
// compilation. loc is the From call, named in errors.
func (c *compiler) resolve(img *ImageOp, loc Location) (*baseImage, error) {
	p := c.platform(img.Platform)
	key := img.Ref + "|" + platforms.Format(p)
	if b, ok := c.images[key]; ok {
		return b, nil
	}
	b := &baseImage{}
	if c.opt.Resolver != nil {
		dgst, dt, err := c.opt.Resolver.ResolveImageConfig(c.ctx, img.Ref, p)
		if err != nil {
			return nil, &ResolveError{Ref: img.Given, Location: loc, Err: err}
		}
		b.digest = dgst
		if len(dt) > 0 {
			if err := json.Unmarshal(dt, &b.config); err != nil {
				return nil, &ResolveError{Ref: img.Given, Location: loc, Err: fmt.Errorf("bad image config: %w", err)}
			}
		}
	}
	c.images[key] = b
	return b, nil
}

// local compiles a host directory: a named local source with a stable
// unique id (for deterministic definitions) and shared key (so unchanged
// files are not sent again).
func (c *compiler) local(n *Node, op *LocalOp) (bkllb.State, error) {
	exclude := op.Exclude
	if !op.NoDockerignore {
		extra, err := readDockerignore(op.Path)
		if err != nil {
			return bkllb.State{}, Invalid(n.Loc, "Host", "path", err.Error(), "fix or remove the .dockerignore file")
		}
		exclude = append(append([]string(nil), extra...), exclude...)
	}
	sum := sha256.Sum256([]byte(op.Path + "\x00" + strings.Join(op.Include, "\x00") + "\x00\x00" + strings.Join(exclude, "\x00")))
	name := "host-" + hex.EncodeToString(sum[:])[:16]
	key := "lading:" + hex.EncodeToString(sum[:])
	found := false
	for _, l := range c.locals {
		found = found || l.Name == name
	}
	if !found {
		c.locals = append(c.locals, LocalDir{Name: name, Path: op.Path, Include: op.Include, Exclude: exclude, SharedKey: key})
	}
	opts := []bkllb.LocalOption{
		bkllb.SharedKeyHint(key),
		bkllb.LocalUniqueID(name),
		c.record(n, "host "+op.Given, []string{op.Given}),
	}
	if len(op.Include) > 0 {
		opts = append(opts, bkllb.IncludePatterns(op.Include))
	}
	if len(exclude) > 0 {
		opts = append(opts, bkllb.ExcludePatterns(exclude))
	}
	return bkllb.Local(name, opts...), nil
}

func (c *compiler) git(n *Node, op *GitOp) bkllb.State {
	opts := []bkllb.GitOption{c.record(n, "git "+op.URL+"#"+op.Ref, []string{op.URL, op.Ref})}
	if op.KeepGitDir {
		opts = append(opts, bkllb.KeepGitDir())
	}
	return bkllb.Git(op.URL, op.Ref, opts...)
}

func (c *compiler) http(n *Node, op *HTTPOp) bkllb.State {
	opts := []bkllb.HTTPOption{
		bkllb.Filename(op.Filename),
		c.record(n, "http "+op.URL, []string{op.URL}),
	}
	if op.Checksum != "" {
		opts = append(opts, bkllb.Checksum(digest.Digest(op.Checksum)))
	}
	if op.Mode != 0 {
		opts = append(opts, bkllb.Chmod(op.Mode))
	}
	return bkllb.HTTP(op.URL, opts...)
}
