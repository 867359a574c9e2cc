package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/solver/pb"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"github.com/moby/buildkit/sourcepolicy/policysession"

	"github.com/ladingbuild/lading/lock"
)

// SourceKind says what a [Source] is.
type SourceKind string

// Kinds of sources a build pulls.
const (
	ImageSource SourceKind = "image" // a container image
	GitSource   SourceKind = "git"   // a Git repository
	HTTPSource  SourceKind = "http"  // a download
	OtherSource SourceKind = "other" // anything else BuildKit pulls
)

// Source is a source the engine is about to resolve or pull, as the source
// policy sees it.
type Source struct {
	// Kind says what the source is.
	Kind SourceKind
	// Ref names it: for images the normalized reference, with the digest
	// when there is one ("docker.io/library/debian:bookworm@sha256:…");
	// for Git the remote and ref ("github.com/org/repo#main"); for HTTP the
	// URL.
	Ref string
	// Identifier is BuildKit's identifier of the source
	// ("docker-image://…", "git://…", "https://…").
	Identifier string
	// Platform is the platform an image is pulled for ("linux/amd64").
	Platform string
	// Pinned says an image's digest was chosen by the program (a ref with
	// "@sha256:…") or by the lock, not by whatever the tag names today;
	// an image the engine is still resolving by tag is not pinned. A
	// download is pinned when it is verified against a checksum (the
	// program's or the lock's).
	Pinned bool
	// Location is the Go file:line of the step that uses the source, when
	// lading can tell.
	Location string
}

// Decision is what a source policy says about a [Source]: [Allow], [Deny]
// or [Rewrite]. The zero Decision allows.
type Decision struct {
	action spb.PolicyAction
	ref    string
	reason string
}

// Allow lets the source be pulled as it is (the zero Decision).
func Allow() Decision { return Decision{action: spb.PolicyAction_ALLOW} }

// Deny refuses the source: the build fails with a *PolicyDeniedError
// carrying reason.
func Deny(reason string) Decision { return Decision{action: spb.PolicyAction_DENY, reason: reason} }

// Rewrite pulls ref instead: for an image another reference (a mirror:
// "mirror.example.com/library/debian:bookworm"), for a download another
// URL. The rewritten source is checked by the policy again, so the policy
// must allow what it rewrites to.
func Rewrite(ref string) Decision { return Decision{action: spb.PolicyAction_CONVERT, ref: ref} }

// WithSourcePolicy checks every source the engine resolves or pulls for a
// build — base images (also while their configs are resolved), Git
// repositories and downloads — with policy, through BuildKit's source
// policy session. Host directories are not sources of the policy. A
// denial fails the build with a *PolicyDeniedError naming the source and
// the Go file:line of its step. The engine must be BuildKit v0.26 or
// later; an older one fails the build before anything is solved with a
// *PolicyUnsupportedError. policy is called from several goroutines.
func WithSourcePolicy(policy func(Source) Decision) Option {
	return func(s *settings) {
		s.only("WithSourcePolicy", forBuilds, "it checks the sources of builds")
		s.guard.policy = policy
	}
}

// PolicyDeniedError is a source the source policy denied.
type PolicyDeniedError struct {
	// Source is the source denied.
	Source Source
	// Reason is the policy's reason.
	Reason string
	err    error
}

func (e *PolicyDeniedError) Error() string {
	at := ""
	if e.Source.Location != "" {
		at = e.Source.Location + ": "
	}
	// A URL's password is not shown (lock.SourceURL masks it).
	return fmt.Sprintf("%s%s %s denied by the source policy: %s", at, e.Source.Kind, lock.SourceURL(e.Source.Ref), e.Reason)
}

// Unwrap returns the engine's error.
func (e *PolicyDeniedError) Unwrap() error { return e.err }

// PolicyUnsupportedError is an engine without BuildKit's source policy
// session (BuildKit before v0.26), found before anything was solved.
type PolicyUnsupportedError struct {
	// Version is the engine's BuildKit version, Address where it is.
	Version, Address string
}

func (e *PolicyUnsupportedError) Error() string {
	return fmt.Sprintf("source policy needs BuildKit ≥ v0.26; this engine is %s at %s: upgrade the engine, or build without a source policy (engine.WithSourcePolicy, or Git refs pinned by the lock)", e.Version, e.Address)
}

// policyState is one build's source policy: the user's callback (nil
// when only the lock's Git pins need the session), where sources are
// used, and the first denial.
type policyState struct {
	fn    func(Source) Decision
	index *sourceIndex
	g     *guard

	mu       sync.Mutex
	denied   *PolicyDeniedError
	rewrites map[string]string // source ref -> what the policy rewrote it to
}

// rewrote returns what the policy rewrote the source ref to, if it did.
func (p *policyState) rewrote(ref string) (string, bool) {
	if p == nil {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	to, ok := p.rewrites[ref]
	return to, ok
}

// provider is the session attachable BuildKit calls for each source.
func (p *policyState) provider() session.Attachable {
	return policysession.NewPolicyProvider(p.check)
}

// check answers one policy request from the engine.
func (p *policyState) check(_ context.Context, req *policysession.CheckPolicyRequest) (*policysession.DecisionResponse, *gwpb.ResolveSourceMetaRequest, error) {
	op := req.GetSource().GetSource()
	if op == nil {
		return nil, nil, errors.New("source policy: the engine sent no source")
	}
	if to, ok := p.g.gitPin(op.GetIdentifier()); ok {
		return &policysession.DecisionResponse{Action: spb.PolicyAction_CONVERT, Update: &pb.SourceOp{Identifier: to, Attrs: op.Attrs}}, nil, nil
	}
	src, ok := p.describe(op, req.GetPlatform())
	if !ok || p.fn == nil {
		return &policysession.DecisionResponse{Action: spb.PolicyAction_ALLOW}, nil, nil
	}
	d := p.decide(src)
	switch d.action {
	case spb.PolicyAction_DENY:
		reason := d.reason
		if reason == "" {
			reason = "denied"
		}
		p.mu.Lock()
		if p.denied == nil {
			p.denied = &PolicyDeniedError{Source: src, Reason: reason}
		}
		p.mu.Unlock()
		return &policysession.DecisionResponse{Action: spb.PolicyAction_DENY, DenyMessages: []*policysession.DenyMessage{{Message: reason}}}, nil, nil
	case spb.PolicyAction_CONVERT:
		id, err := rewritten(src, d.ref)
		if err != nil {
			return nil, nil, err
		}
		p.mu.Lock()
		if p.rewrites == nil {
			p.rewrites = map[string]string{}
		}
		p.rewrites[src.Ref] = d.ref
		p.mu.Unlock()
		return &policysession.DecisionResponse{Action: spb.PolicyAction_CONVERT, Update: &pb.SourceOp{Identifier: id, Attrs: op.Attrs}}, nil, nil
	}
	return &policysession.DecisionResponse{Action: spb.PolicyAction_ALLOW}, nil, nil
}

// decide calls the user's policy; a panic in it denies the source rather
// than crash the build.
func (p *policyState) decide(src Source) (d Decision) {
	defer func() {
		if v := recover(); v != nil {
			d = Deny(fmt.Sprintf("the source policy panicked: %v", v))
		}
	}()
	return p.fn(src)
}

// describe turns BuildKit's source into a Source; false for sources the
// policy does not see (host directories).
func (p *policyState) describe(op *pb.SourceOp, platform *pb.Platform) (Source, bool) {
	id := op.GetIdentifier()
	scheme, rest, _ := strings.Cut(id, "://")
	src := Source{Identifier: id, Ref: rest}
	if platform != nil {
		src.Platform = platforms.Format(platforms.Normalize(platformOf(platform)))
	}
	switch scheme {
	case "local":
		return Source{}, false
	case "docker-image":
		src.Kind = ImageSource
		name := imageName(rest)
		src.Location = p.index.image(rest)
		src.Pinned = p.index.pinnedInCode[name] || (p.g != nil && p.g.lockPinned(name))
	case "git":
		src.Kind = GitSource
		u, _, _ := strings.Cut(rest, "#")
		src.Location = p.index.url(u)
	case "http", "https":
		src.Kind, src.Ref = HTTPSource, id
		src.Location = p.index.url(id)
		src.Pinned = op.GetAttrs()[pb.AttrHTTPChecksum] != ""
	default:
		src.Kind = OtherSource
	}
	return src, true
}

// rewritten is the identifier of the source a Rewrite decision names.
func rewritten(src Source, ref string) (string, error) {
	switch src.Kind {
	case ImageSource:
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return "", fmt.Errorf("source policy: rewriting %s to %q: not an image reference: %w", src.Ref, ref, err)
		}
		return "docker-image://" + named.String(), nil
	case HTTPSource:
		if !strings.HasPrefix(ref, "http://") && !strings.HasPrefix(ref, "https://") {
			return "", fmt.Errorf("source policy: rewriting %s to %q: not an http(s) URL", src.Ref, ref)
		}
		return ref, nil
	}
	return "", fmt.Errorf("source policy: rewriting %s sources is not supported (rewrite images and downloads)", src.Kind)
}

// denial returns the policy's first denial, wrapping the engine's error,
// or nil when the policy denied nothing.
func (p *policyState) denial(err error) error {
	if p == nil || err == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.denied == nil {
		return nil
	}
	d := *p.denied
	d.err = err
	return &d
}
