package llb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"
)

// image writes the source op of a base image, pinned to the digest the
// resolver found.
func (c *compiler) image(n *Node, op *ImageOp) (*vertex, error) {
	ref, err := c.pinnedRef(n, op)
	if err != nil {
		return nil, err
	}
	// client/llb's Image normalizes the reference the same way.
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	pop := &pb.Op{
		Op:          &pb.Op_Source{Source: &pb.SourceOp{Identifier: "docker-image://" + reference.TagNameOnly(named).String()}},
		Platform:    pbPlatform(c.platform(op.Platform)),
		Constraints: &pb.WorkerConstraints{},
	}
	return c.newVertex(pop, c.describe(n, "from "+op.Given, []string{op.Given}), capSourceImage, nil)
}

// pinnedRef is the base image's reference pinned to the digest the
// resolver found, registered among the program's bases.
func (c *compiler) pinnedRef(n *Node, op *ImageOp) (string, error) {
	b, err := c.resolve(op, n.Loc)
	if err != nil {
		return "", err
	}
	ref := op.Ref
	if b.digest != "" && !strings.Contains(ref, "@") {
		ref += "@" + b.digest
	}
	c.bases[ref] = struct{}{}
	return ref, nil
}

// imageKey names a base image for one platform (as platforms.Format
// names a platform: OS, architecture and variant).
type imageKey struct{ ref, os, arch, variant string }

// resolve returns the base image's digest and config, looked up once per
// compilation. loc is the From call, named in errors.
func (c *compiler) resolve(img *ImageOp, loc Location) (*baseImage, error) {
	p := c.platform(img.Platform)
	key := imageKey{img.Ref, p.OS, p.Architecture, p.Variant}
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

// hostDir is the host directory a local source reads, registered among
// the program's locals: a stable name (for deterministic definitions), a
// shared key (so unchanged files are not sent again) and its patterns,
// .dockerignore rules merged in.
func (c *compiler) hostDir(n *Node, op *LocalOp) (LocalDir, error) {
	include, exclude := op.Include, op.Exclude
	if sent := c.sentPaths(op); sent != nil {
		include = sent
	}
	if !op.NoDockerignore {
		extra, err := ReadDockerignore(op.Path)
		if err != nil {
			return LocalDir{}, Invalid(n.Loc, "Host", "path", err.Error(), "fix or remove the .dockerignore file")
		}
		exclude = append(append([]string(nil), extra...), exclude...)
	}
	sum := sha256.Sum256([]byte(op.Path + "\x00" + strings.Join(include, "\x00") + "\x00\x00" + strings.Join(exclude, "\x00")))
	name := "host-" + hex.EncodeToString(sum[:])[:16]
	key := "lading:" + hex.EncodeToString(sum[:])
	dir := LocalDir{Name: name, Path: op.Path, Include: include, Exclude: exclude, SharedKey: key}
	for _, l := range c.locals {
		if l.Name == name {
			return dir, nil
		}
	}
	c.locals = append(c.locals, dir)
	return dir, nil
}

// local writes the source op of a host directory.
func (c *compiler) local(n *Node, op *LocalOp) (*vertex, error) {
	dir, err := c.hostDir(n, op)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{
		pb.AttrSharedKeyHint: dir.SharedKey,
		pb.AttrLocalUniqueID: dir.Name,
	}
	caps := capSourceLocal | capSourceLocalSharedKeyHint | capSourceLocalUnique
	if len(dir.Include) > 0 {
		dt, _ := json.Marshal(dir.Include) // []string always marshals
		attrs[pb.AttrIncludePatterns] = string(dt)
		caps |= capSourceLocalIncludePatterns
	}
	if len(dir.Exclude) > 0 {
		dt, _ := json.Marshal(dir.Exclude) // []string always marshals
		attrs[pb.AttrExcludePatterns] = string(dt)
		caps |= capSourceLocalExcludePatterns
	}
	return c.sourceVertex("local://"+dir.Name, attrs, c.describe(n, "host "+op.Given, []string{op.Given}), caps)
}

// git writes the source op of a git checkout through client/llb's Git,
// whose URL parsing (and, for SSH remotes, known-hosts scan) lading does not
// reproduce; a graph has few such sources.
func (c *compiler) git(n *Node, op *GitOp) (*vertex, error) {
	opts := []bkllb.GitOption{bkllb.WithDescription(c.describe(n, "git "+op.URL+"#"+op.Ref, []string{op.URL, op.Ref}))}
	if op.KeepGitDir {
		opts = append(opts, bkllb.KeepGitDir())
	}
	p := c.platform(Platform{})
	cons := &bkllb.Constraints{Platform: &p}
	dgst, dt, md, _, err := bkllb.Git(op.URL, op.Ref, opts...).Output().Vertex(c.ctx, cons).Marshal(c.ctx, cons)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	v := c.vertexOf(dt, nil, 0, nil)
	if v.dgst != dgst {
		return nil, fmt.Errorf("compile: git source %s: digest mismatch", op.URL)
	}
	v.md = bkllb.NewOpMetadata(md)
	return v, nil
}

// http writes the source op of a downloaded file.
func (c *compiler) http(n *Node, op *HTTPOp) (*vertex, error) {
	attrs := map[string]string{}
	caps := capSourceHTTP
	sum := c.checksumOf(op)
	c.addDownload(n, op, sum)
	if sum != "" {
		attrs[pb.AttrHTTPChecksum] = sum
		caps |= capSourceHTTPChecksum
	}
	if op.Filename != "" {
		attrs[pb.AttrHTTPFilename] = op.Filename
	}
	if perm := int(op.Mode) & 0o777; perm != 0 {
		attrs[pb.AttrHTTPPerm] = "0" + strconv.FormatInt(int64(perm), 8)
		caps |= capSourceHTTPPerm
	}
	return c.sourceVertex(op.URL, attrs, c.describe(n, "http "+op.URL, []string{op.URL}), caps)
}

// sourceVertex writes a source op with attributes and no platform (only
// image sources are platform specific). The attributes are a map, which
// only the deterministic protobuf marshaller writes in a stable order.
func (c *compiler) sourceVertex(id string, attrs, desc map[string]string, caps capSet) (*vertex, error) {
	pop := &pb.Op{
		Op:          &pb.Op_Source{Source: &pb.SourceOp{Identifier: id, Attrs: attrs}},
		Constraints: &pb.WorkerConstraints{},
	}
	dt, err := proto.MarshalOptions{Deterministic: true}.Marshal(pop)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return c.vertexOf(dt, desc, caps, nil), nil
}
