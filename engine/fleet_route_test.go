package engine

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fleetSeeds are the seeds of n loopback engines' addresses.
func fleetSeeds(n int) []uint64 {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = seedOf(fmt.Sprintf("unix:///tmp/lf/%d/buildkitd.sock", i))
	}
	return seeds
}

const manyKeys = 20000

// TestFleetAddingAnEngineMovesOnlyItsShare: growing a fleet of three to
// four moves about a quarter of the keys, never more than a third, and
// every key that moves goes to the new engine.
func TestFleetAddingAnEngineMovesOnlyItsShare(t *testing.T) {
	t.Parallel()
	three, four := fleetSeeds(3), fleetSeeds(4)
	moved := 0
	for i := range manyKeys {
		key := fmt.Sprintf("pipeline/target-%d", i)
		before, after := rank(key, three)[0], rank(key, four)[0]
		if before != after {
			moved++
			require.Equal(t, 3, after, "key %s moved between old engines", key)
		}
	}
	frac := float64(moved) / manyKeys
	t.Logf("adding a fourth engine moved %.1f%% of %d keys", 100*frac, manyKeys)
	assert.LessOrEqual(t, frac, 1.0/3)
	assert.InDelta(t, 0.25, frac, 0.02, "about 1/4 moves")
}

// TestFleetRemovingAnEngineMovesOnlyItsKeys: the keys of the engines that
// stay do not move, and the removed engine's keys go to their second
// choice.
func TestFleetRemovingAnEngineMovesOnlyItsKeys(t *testing.T) {
	t.Parallel()
	four := fleetSeeds(4)
	three := four[:3]
	for i := range manyKeys {
		key := fmt.Sprintf("k%d", i)
		order := rank(key, four)
		if order[0] != 3 {
			require.Equal(t, order[0], rank(key, three)[0], "key %s", key)
		} else {
			require.Equal(t, order[1], rank(key, three)[0], "key %s goes to its second choice", key)
		}
	}
}

// TestFleetSpreadsKeysEvenly: each of three engines gets about a third.
func TestFleetSpreadsKeysEvenly(t *testing.T) {
	t.Parallel()
	seeds := fleetSeeds(3)
	count := make([]int, 3)
	for i := range manyKeys {
		count[rank(fmt.Sprintf("ci/%d", i), seeds)[0]]++
	}
	for i, n := range count {
		assert.InDelta(t, 1.0/3, float64(n)/manyKeys, 0.02, "engine %d: %v", i, count)
	}
}

// TestFleetRankIsStable: the order depends on the key and the addresses
// only: the same in every call (and every process: no random seed), and
// a permutation of the engines.
func TestFleetRankIsStable(t *testing.T) {
	t.Parallel()
	seeds := fleetSeeds(5)
	first := rank("app/build", seeds)
	assert.ElementsMatch(t, []int{0, 1, 2, 3, 4}, first)
	for range 100 {
		assert.Equal(t, first, rank("app/build", seeds))
	}
	// Pinned: a change of hash would move every user's keys.
	assert.Equal(t, []int{2, 4, 0, 3, 1}, first)
}

// TestKeyCacheTags: every key gets a valid tag of its own.
func TestKeyCacheTags(t *testing.T) {
	t.Parallel()
	tagRE := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	seen := map[string]string{}
	for _, key := range []string{
		"ci/build", "ci/Build", "ci:build", "ci build", "", "-x", ".x", "/abs/main.go:12",
		"ünïcödé", string(make([]byte, 300)), "a" + string(make([]rune, 200)),
	} {
		c := keyCache("127.0.0.1:5000/lading-cache", key)
		_, tag, _ := strings.Cut(c.ref, ":5000/lading-cache:")
		assert.Regexp(t, tagRE, tag, "key %q", key)
		_, err := reference.ParseNormalizedNamed(c.ref)
		require.NoError(t, err, "key %q", key)
		if other, dup := seen[tag]; dup {
			t.Errorf("keys %q and %q share the tag %s", other, key, tag)
		}
		seen[tag] = key
	}
	assert.Equal(t, "registry:r.example/c:ci-build-"+fmt.Sprintf("%x", sha256.Sum256([]byte("ci/build")))[:12], keyCache("r.example/c", "ci/build").String())
}

// TestRouteLine: the summary says where a build ran, and that it moved.
func TestRouteLine(t *testing.T) {
	t.Parallel()
	s := Summary{Route: &Route{Key: "ci/build", Engine: "unix:///b"}}
	assert.Contains(t, s.String(), `ran on engine unix:///b (key "ci/build")`)
	s.Route.MovedFrom, s.Route.Why = "unix:///a", "no build engine: the engine at unix:///a went away during the build\nhint"
	assert.Contains(t, s.String(), `moved from engine unix:///a to unix:///b (key "ci/build"): no build engine: the engine at unix:///a went away during the build`+"\n")
	assert.NotContains(t, s.String(), "hint")
}

// TestFleetOrderOfAddressesDoesNotMatter: the winner of a key depends on
// the engines' addresses, not on the order they were given in.
func TestFleetOrderOfAddressesDoesNotMatter(t *testing.T) {
	t.Parallel()
	seeds := fleetSeeds(4)
	reversed := []uint64{seeds[3], seeds[2], seeds[1], seeds[0]}
	for i := range 1000 {
		key := fmt.Sprint("k", i)
		assert.Equal(t, seeds[rank(key, seeds)[0]], reversed[rank(key, reversed)[0]], "key %s", key)
	}
}
