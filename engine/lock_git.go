package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"

	"github.com/ladingbuild/lading/lock"
)

// gitSourceOp is the source op BuildKit gets for url at ref (what the
// compiler writes through client/llb's Git).
func gitSourceOp(ctx context.Context, url, ref string) (*pb.SourceOp, error) {
	def, err := bkllb.Git(url, ref).Marshal(ctx)
	if err != nil {
		return nil, fmt.Errorf("git source %s#%s: %w", url, ref, err)
	}
	for _, dt := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			return nil, fmt.Errorf("git source %s#%s: %w", url, ref, err)
		}
		if src := op.GetSource(); src != nil {
			return src, nil
		}
	}
	return nil, fmt.Errorf("git source %s#%s: no source op", url, ref)
}

// resolveGit records in f the commit each Git ref of x names now,
// resolved through the engine.
func resolveGit(ctx context.Context, c gateway.Client, x *sourceIndex, f *lock.File) error {
	for _, s := range x.git {
		if commitLike(s.ref) {
			continue
		}
		if _, ok := f.GitCommit(s.url, s.ref); ok {
			continue
		}
		op, err := gitSourceOp(ctx, s.url, s.ref)
		if err != nil {
			return err
		}
		md, err := c.ResolveSourceMetadata(ctx, op, sourceresolver.Opt{GitOpt: &sourceresolver.ResolveGitOpt{}})
		if err != nil {
			return fmt.Errorf("%s: resolving Git %s#%s: %w", s.loc, lock.SourceURL(s.url), s.ref, err)
		}
		if md.Git == nil || md.Git.Checksum == "" {
			return fmt.Errorf("%s: resolving Git %s#%s: the engine returned no commit", s.loc, lock.SourceURL(s.url), s.ref)
		}
		// An annotated tag resolves to its tag object; the lock records the
		// commit it names.
		commit := md.Git.Checksum
		if md.Git.CommitChecksum != "" {
			commit = md.Git.CommitChecksum
		}
		f.SetGit(s.url, s.ref, commit)
	}
	return nil
}

// gitPin is the identifier a Git source converts to under the lock.
func (g *guard) gitPin(identifier string) (string, bool) {
	if g == nil {
		return "", false
	}
	to, ok := g.pins[identifier]
	return to, ok
}

// gitPins maps the BuildKit identifier of each Git source of x that the
// lock records to the identifier at the recorded commit: the source
// policy session converts one to the other, so that a pinned build checks
// out the locked commit without a change to the code.
func (g *guard) gitPins(ctx context.Context, x *sourceIndex) (map[string]string, error) {
	if g == nil || g.mode == lock.Live || x == nil {
		return nil, nil
	}
	pins := map[string]string{}
	for _, s := range x.git {
		commit, ok := g.lock.GitCommit(s.url, s.ref)
		if !ok || commitLike(s.ref) {
			continue
		}
		op, err := gitSourceOp(ctx, s.url, s.ref)
		if err != nil {
			return nil, err
		}
		id, frag, found := strings.Cut(op.Identifier, "#")
		if !found {
			return nil, errors.New("git source " + s.url + ": no ref in its identifier")
		}
		// A subdirectory (#ref:dir) stays.
		if _, sub, ok := strings.Cut(frag, ":"); ok {
			commit += ":" + sub
		}
		pins[op.Identifier] = id + "#" + commit
	}
	return pins, nil
}
