package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// The texts below are what BuildKit v0.34.2 returned here for a registry
// with htpasswd auth (see TestRegistryRefusesCredentials), and what
// Docker Hub style token registries say.
func TestRegistryAuthErrorRecognized(t *testing.T) {
	t.Parallel()
	const (
		pushMsg = "failed to solve: failed to push 127.0.0.1:32927/lading-test/x:y: unexpected status from HEAD request to " +
			"http://127.0.0.1:32927/v2/lading-test/x/blobs/sha256:c1f8beb443a28ba3b94bb7d5d9f2ac25c60b7e5224d8a9f14441bcc659f7287c: 401 Unauthorized"
		pullMsg = "failed to solve: unexpected status from HEAD request to http://127.0.0.1:32927/v2/lading-test/base/manifests/t17: 401 Unauthorized"
		hubMsg  = "failed to solve: docker.io/acme/private:1: failed to resolve source metadata for docker.io/acme/private:1: " +
			"failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://auth.docker.io/token?scope=repository%3Aacme%2Fprivate%3Apull: 401 Unauthorized"
	)
	dir := writeDockerConfig(t, "127.0.0.1:32927", "lading", "secret-pass")
	e := &Engine{s: settings{dockerConfig: dir}}

	for _, tc := range []struct {
		name     string
		err      error
		registry string
		ref      string
		action   string
		found    bool
		location string
	}{
		{name: "push", err: errors.New(pushMsg), registry: "127.0.0.1:32927", ref: "127.0.0.1:32927/lading-test/x:y", action: "push", found: true},
		{name: "pull", err: errors.New(pullMsg), registry: "127.0.0.1:32927", ref: "127.0.0.1:32927/lading-test/base:t17", action: "pull", found: true},
		{name: "token registry", err: errors.New(hubMsg), registry: "docker.io", ref: "docker.io/acme/private:1", action: "pull"},
		{name: "base image", err: fmt.Errorf("build: %w", &lllb.ResolveError{Ref: "127.0.0.1:32927/lading-test/base:t17",
			Location: lllb.Location{File: "ci/main.go", Line: 12}, Err: errors.New(pullMsg)}),
			registry: "127.0.0.1:32927", ref: "127.0.0.1:32927/lading-test/base:t17", action: "pull", found: true, location: "ci/main.go:12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := e.classify(t.Context(), tc.err)
			var ae *RegistryAuthError
			require.ErrorAs(t, got, &ae)
			assert.Equal(t, tc.registry, ae.Registry)
			assert.Equal(t, tc.ref, ae.Ref)
			assert.Equal(t, tc.action, ae.Action)
			assert.Equal(t, tc.found, ae.CredentialsFound)
			assert.Equal(t, tc.location, ae.Location)
			require.ErrorIs(t, got, tc.err, "wraps the engine's error")
			assert.NotContains(t, got.Error(), "secret-pass")
			if tc.location != "" {
				assert.True(t, strings.HasPrefix(got.Error(), tc.location+": From "), got.Error())
			}
		})
	}

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"not found", errors.New("failed to solve: docker.io/library/debian:does-not-exist: not found")},
		{"an exec error", errors.New(`process "/bin/sh -c false" did not complete successfully: exit code: 1`)},
		{"auth words without a registry", errors.New("401 Unauthorized")},
	} {
		t.Run("not auth: "+tc.name, func(t *testing.T) {
			t.Parallel()
			var ae *RegistryAuthError
			assert.NotErrorAs(t, e.classify(t.Context(), tc.err), &ae)
		})
	}
}

func TestClassifyKeepsCompileErrorsAndCancellation(t *testing.T) {
	t.Parallel()
	e := &Engine{}
	ve := &lllb.ValidationError{Op: "WithExec", Arg: "args", Problem: "empty"}
	assert.Same(t, error(ve), e.classify(t.Context(), ve), "a compile error comes back as it is")

	canceled := fmt.Errorf("failed to solve: %w", status.Error(codes.Canceled, "context canceled"))
	assert.ErrorIs(t, e.classify(t.Context(), canceled), context.Canceled, "gRPC Canceled matches context.Canceled")
}

func TestBoundedText(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("é", 5<<20)
	q := quote(huge)
	assert.Less(t, len(q), 1000)
	assert.True(t, strings.HasPrefix(q, `"éé`))
	assert.Contains(t, q, "(10485760 bytes)")
	assert.Equal(t, `"short"`, quote("short"))

	err := bounded(errors.New(huge))
	assert.Less(t, len(err.Error()), maxCause+100)
	base := errors.New("x")
	require.ErrorIs(t, bounded(fmt.Errorf("%s: %w", huge, base)), base, "the chain stays whole")

	ae := &RegistryAuthError{Registry: huge, Ref: huge, Action: "push", Fix: "f"}
	assert.Less(t, len(ae.Error()), 2000)
}
