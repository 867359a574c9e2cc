package engine

import (
	"hash/fnv"
	"slices"
)

// Routing over a fleet is rendezvous hashing (highest random weight): each
// engine scores each key, and a key goes to the engine that scores it
// highest, else to the next one down when that engine is unreachable. An
// engine's score for a key does not depend on the other engines, so adding
// an engine moves only the keys it now wins (about 1/(n+1) of them), and
// removing one moves only the keys it held.

// keyHash hashes a routing key once per build.
func keyHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

// seedOf is an engine's fixed seed: a hash of its address, so that the
// same address scores the same keys the same way in every process.
func seedOf(addr string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("lading-fleet\x00"))
	h.Write([]byte(addr))
	return h.Sum64()
}

// score is an engine's weight for a key: the two hashes mixed with
// SplitMix64's finalizer, which spreads every bit of its input over the
// output, so that scores of one key on several engines are independent.
func score(key, seed uint64) uint64 {
	z := key ^ seed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rank returns the indexes of seeds in the key's order of preference:
// highest score first, ties (which need equal seeds) by index.
func rank(key string, seeds []uint64) []int {
	k := keyHash(key)
	order := make([]int, len(seeds))
	scores := make([]uint64, len(seeds))
	for i, s := range seeds {
		order[i] = i
		scores[i] = score(k, s)
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return a - b
	})
	return order
}
