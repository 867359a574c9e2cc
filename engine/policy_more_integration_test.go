package engine

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// TestPolicyPanicDenies: a policy that panics denies the source (the
// build fails with a *PolicyDeniedError saying so) instead of crashing.
func TestPolicyPanicDenies(t *testing.T) {
	e, env := testEngine(t)
	ref := fmt.Sprintf("%s/lading-test/polpanic-%d:v1", env.Registry, time.Now().UnixNano())
	pushMarker(t, e, ref, "one")
	panicky := e.With(WithSourcePolicy(func(Source) Decision { panic("boom") }))
	app, at := sdk.From(ref), lllb.Caller(0)
	_, err := panicky.Build(t.Context(), app)
	var pd *PolicyDeniedError
	require.ErrorAs(t, err, &pd)
	assert.Contains(t, pd.Reason, "the source policy panicked: boom")
	assert.Equal(t, at.String(), pd.Source.Location)
}

// TestPolicyDenySecondStage: a denial names the stage that pulls the
// source: the runtime's From line, or the builder's.
func TestPolicyDenySecondStage(t *testing.T) {
	e, env := testEngine(t)
	builder := fmt.Sprintf("%s/lading-test/polb-%d:v1", env.Registry, time.Now().UnixNano())
	runtime := fmt.Sprintf("%s/lading-test/polr2-%d:v1", env.Registry, time.Now().UnixNano())
	pushMarker(t, e, builder, "b")
	pushMarker(t, e, runtime, "r")
	build, buildAt := sdk.From(builder).WithNewFile("/x", "x"), lllb.Caller(0)
	app, appAt := sdk.From(runtime).WithFile("/x", build.File("/x")), lllb.Caller(0)
	for _, tc := range []struct{ deny, at string }{{runtime, appAt.String()}, {builder, buildAt.String()}} {
		pe := e.With(WithSourcePolicy(func(src Source) Decision {
			if strings.HasPrefix(src.Ref, tc.deny) {
				return Deny("not this one")
			}
			return Allow()
		}))
		_, err := pe.Build(t.Context(), app)
		var pd *PolicyDeniedError
		require.ErrorAs(t, err, &pd)
		assert.Equal(t, tc.at, pd.Source.Location)
		assert.True(t, strings.HasPrefix(pd.Source.Ref, tc.deny), pd.Source.Ref)
	}
}

// TestPolicyDownloads: the policy sees downloads with their Go line, and
// Pinned when a checksum verifies them: the code's or the lock's (it was
// false for every download before).
func TestPolicyDownloads(t *testing.T) {
	e, _ := testEngine(t)
	url, content := fileServer(t)
	content.Store("x")
	var s seen
	record := WithSourcePolicy(func(src Source) Decision { s.add(src); return Allow() })
	live, at := sdk.Scratch().WithFile("/live", sdk.HTTP(url, "")), lllb.Caller(0)
	code := sdk.Scratch().WithFile("/code", sdk.HTTP(url+"-code", sha256Of("x")))
	_, err := e.With(record).Build(t.Context(), live.WithFile("/code", code.File("/code")))
	require.NoError(t, err)
	pinned := map[string]bool{}
	for _, src := range s.all() {
		require.Equal(t, HTTPSource, src.Kind)
		pinned[src.Ref] = src.Pinned
		if src.Ref == url {
			assert.Equal(t, at.String(), src.Location)
		}
	}
	assert.Equal(t, map[string]bool{url: false, url + "-code": true}, pinned)

	f := lock.New()
	f.SetHTTP(url, sha256Of("x"))
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, f.Write(path))
	s = seen{}
	_, err = e.With(record, WithLock(path, lock.Pinned)).Build(t.Context(), live)
	require.NoError(t, err)
	require.NotEmpty(t, s.all())
	for _, src := range s.all() {
		assert.True(t, src.Pinned, "the lock's checksum pins it: %+v", src)
	}
}

// TestPolicyRewriteToMissing: a rewrite to an image that does not exist
// fails naming the step's From line, and that the policy rewrote it to the
// missing image.
func TestPolicyRewriteToMissing(t *testing.T) {
	e, env := testEngine(t)
	ref := fmt.Sprintf("%s/lading-test/polm-%d:v1", env.Registry, time.Now().UnixNano())
	pushMarker(t, e, ref, "one")
	missing := env.Registry + "/lading-test/nothing-here:v9"
	pe := e.With(WithSourcePolicy(func(src Source) Decision {
		if strings.HasPrefix(src.Ref, ref) {
			return Rewrite(missing)
		}
		return Allow()
	}))
	app, at := sdk.From(ref), lllb.Caller(0)
	_, err := pe.Build(t.Context(), app)
	require.Error(t, err)
	assert.Contains(t, err.Error(), at.String())
	assert.Contains(t, err.Error(), "which the source policy rewrote to "+strconv.Quote(missing))
	assert.Contains(t, err.Error(), "not found")
}
