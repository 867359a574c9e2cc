package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

func TestFleetOptionErrors(t *testing.T) {
	dead := "unix://" + t.TempDir() + "/dead.sock"
	for _, tc := range []struct {
		name string
		opts []Option
		env  string
		want string
	}{
		{"address and fleet", []Option{WithAddress(dead), WithFleet(dead)}, "", "WithAddress and engine.WithFleet were both given"},
		{"empty fleet", []Option{WithFleet()}, "", "WithFleet was given no address"},
		{"empty LADING_FLEET", nil, " , ", "LADING_FLEET holds no address"},
		{"repeated address", []Option{WithFleet(dead, dead)}, "", "lists the engine " + quote(dead) + " twice"},
		{"one engine spelled twice", []Option{WithFleet(dead, strings.Replace(dead, "/dead.sock", "//./dead.sock", 1))}, "", " twice: each engine once"},
		{"one tcp engine spelled twice", []Option{WithFleet("tcp://127.0.0.1:1", "tcp://127.0.0.1:1/")}, "", " twice: each engine once"},
		{"bad address", []Option{WithFleet("nope")}, "", `invalid engine address "nope"`},
		{"kube:// without package kubefleet", []Option{WithFleet("kube://ci/statefulset/buildkitd")}, "", `import _ "github.com/ladingbuild/lading/engine/kubefleet"`},
		{"kube:// as one engine", []Option{WithAddress("kube://ci/statefulset/buildkitd")}, "", "give it to engine.WithFleet or LADING_FLEET"},
		{"plaintext remote tcp", []Option{WithFleet("tcp://192.0.2.1:1234")}, "", "refusing plaintext"},
		{"an empty address", []Option{WithFleet(dead, "")}, "", "engine.WithFleet: address 2 of 2 is empty"},
		{"spaces around an address are trimmed", []Option{WithFleet(" " + dead + " ")}, "", "\n  " + dead + ": "},
		{"an empty key", []Option{WithFleet(dead), WithFleetKey("")}, "", "engine.WithFleetKey was given an empty key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LADING_FLEET", tc.env)
			e, err := Connect(t.Context(), append([]Option{Silent(), WithoutAutoStart()}, tc.opts...)...)
			require.Error(t, err)
			assert.Nil(t, e)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("an empty key on With", func(t *testing.T) {
		c := (&Engine{s: defaultSettings()}).With(WithFleetKey(""))
		require.ErrorContains(t, c.s.err, "engine.WithFleetKey was given an empty key")
	})
	t.Run("a misplaced option", func(t *testing.T) {
		c := (&Engine{s: defaultSettings()}).With(WithFleet(dead))
		require.ErrorContains(t, c.s.err, "engine.WithFleet has no effect in Engine.With")
	})
}

// TestFleetNoneAnswers: a fleet whose engines are all down is ErrNoEngine,
// naming each address and why, within the health check's bound.
func TestFleetNoneAnswers(t *testing.T) {
	dir := t.TempDir()
	a, b := "unix://"+dir+"/a.sock", "unix://"+dir+"/b.sock"
	for _, env := range []bool{false, true} {
		t.Run(fmt.Sprint("env=", env), func(t *testing.T) {
			opts := []Option{Silent()}
			if env {
				t.Setenv("LADING_FLEET", a+","+b)
				t.Setenv("BUILDKIT_HOST", "unix://"+dir+"/not-used.sock")
			} else {
				opts = append(opts, WithFleet(a, b))
			}
			start := time.Now()
			_, err := Connect(t.Context(), opts...)
			require.ErrorIs(t, err, ErrNoEngine)
			assert.Less(t, time.Since(start), healthTimeout+time.Second)
			assert.Contains(t, err.Error(), "none of the fleet's 2 engines")
			assert.Contains(t, err.Error(), a+": ")
			assert.Contains(t, err.Error(), b+": ")
			assert.NotContains(t, err.Error(), "not-used", "LADING_FLEET comes before BUILDKIT_HOST")
		})
	}
}

// TestFleetSkipsAnUnreachableEngine: with one engine down, Connect says so
// once, builds whose key prefers the dead engine go to the live one, and
// exactly one build's summary carries the warning.
func TestFleetSkipsAnUnreachableEngine(t *testing.T) {
	env := testenv.Require(t)
	dead := "unix://" + t.TempDir() + "/dead.sock"
	var log strings.Builder
	e, err := Connect(t.Context(), WithFleet(dead, env.BuildkitHost), WithLogOutput(&log),
		WithProgress(ProgressQuiet), WithInsecureRegistry(env.Registry), WithoutExplanations())
	require.NoError(t, err)
	defer e.Close()
	assert.Equal(t, dead+","+env.BuildkitHost, e.Address())
	assert.Equal(t, OriginOption, e.Origin())
	assert.Equal(t, 1, strings.Count(log.String(), "warning: engine "+dead+" is unreachable, skipped"), log.String())
	require.Len(t, e.Members(), 2)
	assert.Equal(t, dead, e.Members()[0].Address())
	_, err = e.Status(t.Context())
	require.NoError(t, err, "the fleet's own calls go to the first engine that answered")
	_, err = e.Members()[0].Status(t.Context())
	require.ErrorIs(t, err, ErrNoEngine, "the member that is down")

	// Keys that prefer the dead engine.
	var keys []string
	for i := 0; len(keys) < 3; i++ {
		k := fmt.Sprint("key-", i)
		if e.fleet.order(k)[0].addr == dead {
			keys = append(keys, k)
		}
	}
	warnings := 0
	for _, k := range keys {
		assert.Equal(t, env.BuildkitHost, e.RouteFor(k))
		res, err := e.With(WithFleetKey(k)).Build(t.Context(), sdk.From("debian:bookworm-slim").WithNewFile("/k", k))
		require.NoError(t, err)
		require.NotNil(t, res.Summary.Route)
		assert.Equal(t, Route{Key: k, Engine: env.BuildkitHost}, *res.Summary.Route)
		for _, w := range res.Summary.Warnings {
			if strings.Contains(w, dead+" is unreachable, skipped") {
				warnings++
			}
		}
	}
	assert.Equal(t, 1, warnings, "one warning for the engine that is down")
}

// TestFleetDefaultKey: without WithFleetKey, a build's key is the Go line
// that made the value, the same for every build of that line.
func TestFleetDefaultKey(t *testing.T) {
	t.Parallel()
	e := &Engine{}
	mk := func(s string) *sdk.Container { return sdk.From("debian:bookworm-slim").WithNewFile("/f", s) } // this line
	k1 := e.routeKey(request{value: mk("a")})
	k2 := e.routeKey(request{value: mk("b")})
	assert.Equal(t, k1, k2)
	assert.Contains(t, k1, "fleet_test.go:")
	assert.NotEqual(t, k1, e.routeKey(request{value: sdk.Scratch()}))
	e.s.fleet.key = "mine"
	assert.Equal(t, "mine", e.routeKey(request{value: mk("a")}))
}

// TestFleetCachePerKey: LADING_FLEET_CACHE gives each routing key its own
// tag in the repository, also on a single engine, and the key's builds
// export their cache there.
func TestFleetCachePerKey(t *testing.T) {
	e, env := testEngine(t, WithoutExplanations())
	tok := testenv.Token(t)
	repo := env.Registry + "/lading-test/fleet-cache-" + tok
	t.Setenv("LADING_FLEET_CACHE", repo)
	for _, key := range []string{"ci/a", "ci/b"} {
		_, err := e.With(WithFleetKey(key)).Build(t.Context(), sdk.From("debian:bookworm-slim").WithNewFile("/key", key+tok))
		require.NoError(t, err)
	}
	for _, key := range []string{"ci/a", "ci/b"} {
		c := keyCache(repo, key)
		_, tag, _ := strings.Cut(c.ref, "fleet-cache-"+tok+":")
		testenv.RegistryGet(t, env.Registry, "/v2/lading-test/fleet-cache-"+tok+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json")
	}
}

// TestFleetRechecksADownEngine: an engine marked down is checked again,
// in the background, once recheckAfter has passed, and takes its keys
// back when it answers.
func TestFleetRechecksADownEngine(t *testing.T) {
	env := testenv.Require(t)
	e, err := Connect(t.Context(), WithFleet(env.BuildkitHost), Silent())
	require.NoError(t, err)
	defer e.Close()
	m := e.fleet.members[0]
	m.markDown(ErrNoEngine)
	assert.Empty(t, e.RouteFor("k"), "down, and checked just now")
	m.mu.Lock()
	m.checked = time.Now().Add(-recheckAfter - time.Second)
	m.mu.Unlock()
	assert.Empty(t, e.RouteFor("k"), "still down until the check answers")
	require.Eventually(t, func() bool { return e.RouteFor("k") == env.BuildkitHost }, 5*time.Second, 10*time.Millisecond)
}

// TestEngineLost: only an engine that went away moves a build; a failed
// step, a bad program, another error or a cancelled build do not.
func TestEngineLost(t *testing.T) {
	t.Parallel()
	lost := (&Engine{addr: "unix:///x", origin: OriginOption}).lostError("during the build", errors.New("EOF"))
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"the engine went away", t.Context(), lost, true},
		{"a step exited non-zero", t.Context(), &ExecError{ExitCode: 3, err: lost}, false},
		{"a bad program", t.Context(), &sdk.ValidationError{Op: "WithExec", Problem: "no command given"}, false},
		{"another failure", t.Context(), errors.New("build failed: registry said no"), false},
		{"cancelled", cancelled, lost, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, engineLost(tc.ctx, tc.err))
		})
	}
}

// Closing a member (a habit: defer m.Close()) does not close the
// connection the fleet shares with it: before, the fleet's next build on
// that engine failed with gRPC's "the client connection is closing".
func TestFleetMemberCloseLeavesTheFleet(t *testing.T) {
	env := testenv.Require(t)
	e, err := Connect(t.Context(), WithFleet(env.BuildkitHost), Silent(), WithProgress(ProgressQuiet),
		WithInsecureRegistry(env.Registry), WithoutExplanations())
	require.NoError(t, err)
	defer e.Close()
	m := e.Members()[0]
	require.NoError(t, m.Close())
	_, err = m.Status(t.Context())
	require.NoError(t, err, "the member still answers")
	res, err := e.With(WithFleetKey("member-close")).Build(t.Context(), sdk.From("debian:bookworm-slim").WithNewFile("/k", "k"))
	require.NoError(t, err, "the fleet still builds on the member's engine")
	assert.Equal(t, env.BuildkitHost, res.Summary.Route.Engine)
}

// A cache repository that is not one fails the build at once, naming the
// setting and the form it wants; before, the error named a reference the
// user never wrote (REPO:k-…), and not where it came from.
func TestFleetCacheBadRepository(t *testing.T) {
	for _, tc := range []struct{ repo, option, want string }{
		{"Bad Repo", "", "LADING_FLEET_CACHE \"Bad Repo\" is not a registry repository"},
		{"http://registry.example.com/cache", "", "LADING_FLEET_CACHE \"http://registry.example.com/cache\" is not a registry repository"},
		{"", "registry.example.com/cache:v1", "engine.WithFleetCache \"registry.example.com/cache:v1\" is not a registry repository: it has a tag"},
	} {
		t.Run(tc.repo+tc.option, func(t *testing.T) {
			t.Setenv("LADING_FLEET_CACHE", tc.repo)
			e, _ := testEngine(t, WithoutExplanations())
			if tc.option != "" {
				e = e.With(WithFleetCache(tc.option))
			}
			_, err := e.Build(t.Context(), sdk.Scratch().WithNewFile("/f", "x"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "give one such as registry.example.com/team/lading-cache")
		})
	}
}
