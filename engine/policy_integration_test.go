package engine

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// seen collects the sources a policy is asked about.
type seen struct {
	mu   sync.Mutex
	srcs []Source
}

func (s *seen) add(src Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srcs = append(s.srcs, src)
}

func (s *seen) all() []Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Source(nil), s.srcs...)
}

// TestPolicyAllow: the policy is asked about the base image, both while
// its config is resolved (by tag) and when it is pulled (by digest), with
// the Go line of the From call; host directories are not asked about.
func TestPolicyAllow(t *testing.T) {
	e, env := testEngine(t)
	ref := fmt.Sprintf("%s/lading-test/pol-%d:v1", env.Registry, time.Now().UnixNano())
	dgst := pushMarker(t, e, ref, "one")
	var s seen
	pe := e.With(WithSourcePolicy(func(src Source) Decision { s.add(src); return Allow() }))
	dir := t.TempDir()
	app, at := sdk.From(ref).WithDirectory("/in", sdk.Host(dir)), lllb.Caller(0)
	assert.Equal(t, "one", markerOf(t, pe, app))
	srcs := s.all()
	require.NotEmpty(t, srcs)
	var byTag, byDigest bool
	for _, src := range srcs {
		assert.Equal(t, ImageSource, src.Kind, "%+v", src)
		assert.Equal(t, at.String(), src.Location, "%+v", src)
		assert.Equal(t, "linux/amd64", src.Platform, "%+v", src)
		assert.False(t, src.Pinned, "a tag resolved live is not pinned: %+v", src)
		switch src.Ref {
		case ref:
			byTag = true
		case ref + "@" + dgst:
			byDigest = true
		}
	}
	assert.True(t, byTag, "asked while resolving the tag: %+v", srcs)
	assert.True(t, byDigest, "asked when pulling the digest: %+v", srcs)
}

// TestPolicyDeny: a denied base image fails the build with a
// *PolicyDeniedError naming the source, the reason and the From line.
func TestPolicyDeny(t *testing.T) {
	e, env := testEngine(t)
	ref := fmt.Sprintf("%s/lading-test/pold-%d:v1", env.Registry, time.Now().UnixNano())
	pushMarker(t, e, ref, "one")
	pe := e.With(WithSourcePolicy(func(src Source) Decision {
		if src.Kind == ImageSource && !src.Pinned {
			return Deny("release builds take pinned bases only")
		}
		return Allow()
	}))
	app, at := sdk.From(ref), lllb.Caller(0)
	_, err := pe.Build(t.Context(), app)
	var pd *PolicyDeniedError
	require.ErrorAs(t, err, &pd)
	assert.Equal(t, at.String(), pd.Source.Location)
	assert.Equal(t, ImageSource, pd.Source.Kind)
	assert.True(t, strings.HasPrefix(pd.Source.Ref, ref), pd.Source.Ref)
	assert.Equal(t, "release builds take pinned bases only", pd.Reason)
	assert.Contains(t, err.Error(), at.String()+": image "+ref)

	// A denial when the image is pulled (by digest), after its config was
	// resolved (by tag), comes back the same way.
	byDigest := e.With(WithSourcePolicy(func(src Source) Decision {
		if strings.Contains(src.Ref, "@") {
			return Deny("no pulls today")
		}
		return Allow()
	}))
	_, err = byDigest.Build(t.Context(), app)
	require.ErrorAs(t, err, &pd)
	assert.Equal(t, "no pulls today", pd.Reason)
	assert.Equal(t, at.String(), pd.Source.Location)

	// The same base pinned by the lock is allowed.
	f, err := e.Lock(t.Context(), app)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, f.Write(path))
	assert.Equal(t, "one", markerOf(t, pe.With(WithLock(path, lock.Pinned)), app))
}

// TestPolicyRewrite: a base named on a host that does not exist is pulled
// from the test registry that the policy rewrites it to, like a mirror.
func TestPolicyRewrite(t *testing.T) {
	e, env := testEngine(t)
	mirror := fmt.Sprintf("%s/lading-test/polr-%d", env.Registry, time.Now().UnixNano())
	dgst := pushMarker(t, e, mirror+":v1", "mirrored")
	const upstream = "registry.invalid/team/app"
	var s seen
	pe := e.With(WithSourcePolicy(func(src Source) Decision {
		s.add(src)
		if rest, ok := strings.CutPrefix(src.Ref, upstream); ok {
			return Rewrite(mirror + rest)
		}
		return Allow()
	}))
	assert.Equal(t, "mirrored", markerOf(t, pe, sdk.From(upstream+":v1")))
	var asked []string
	for _, src := range s.all() {
		asked = append(asked, src.Ref)
	}
	assert.Contains(t, asked, upstream+":v1")
	assert.Contains(t, asked, mirror+":v1", "the rewritten source is checked again")

	// Lock resolves through the policy too: the tag is recorded with the
	// mirror's digest, and a pinned build pulls it.
	f, err := pe.Lock(t.Context(), sdk.From(upstream+":v1"))
	require.NoError(t, err)
	got, ok := f.Image(upstream+":v1", "linux/amd64")
	require.True(t, ok, "%s", f.Bytes())
	assert.Equal(t, dgst, got)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, f.Write(path))
	assert.Equal(t, "mirrored", markerOf(t, pe.With(WithLock(path, lock.Frozen)), sdk.From(upstream+":v1")))

	// A rewrite to something that is not an image reference fails the build.
	bad := e.With(WithSourcePolicy(func(Source) Decision { return Rewrite("Not A Ref") }))
	_, err = bad.Build(t.Context(), sdk.From(mirror+":v1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not an image reference")
}

// TestPolicyEnginesHaveTheCapability: the suite's engines (BuildKit v0.34.2
// and, in CI's second pass, v0.33.1) list the source policy session; an
// engine without it is refused before solving (policyCapable, tested
// offline in TestPolicyCapable: no engine older than v0.26 is available).
func TestPolicyEnginesHaveTheCapability(t *testing.T) {
	e, _ := testEngine(t)
	_, err := e.With(WithSourcePolicy(func(Source) Decision { return Allow() })).Build(t.Context(), sdk.Scratch().WithNewFile("/a", "a"))
	require.NoError(t, err)
}
