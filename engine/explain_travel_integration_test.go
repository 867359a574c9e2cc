package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestRecordTravelsWithTheCache: a fresh runner (no record on its
// machine) that imports the cache another run exported compares with that
// run's record, through a registry cache and a local one.
func TestRecordTravelsWithTheCache(t *testing.T) {
	_, env := testEngine(t)
	for _, kind := range []string{"registry", "local"} {
		t.Run(kind, func(t *testing.T) {
			cache := LocalCache(t.TempDir())
			if kind == "registry" {
				cache = RegistryCache(env.Registry + "/lading-test/record-travel:" + uniqueTag(t))
			}
			nonce := uniqueTag(t)
			graph := func(mode string) *sdk.Container {
				return ltContainer(t).WithEnv("MODE", mode).WithExec([]string{"/bin/lt", "echo", "travel", nonce})
			}
			program := WithProgramName("record-travel-" + nonce)
			first, _ := testEngine(t, WithRecords(t.TempDir()), program, WithCache(cache))
			res, err := first.Build(t.Context(), graph("one"))
			require.NoError(t, err)
			require.Empty(t, res.Summary.Warnings)

			fresh, _ := testEngine(t, WithRecords(t.TempDir()), program, WithCache(cache))
			res, err = fresh.Build(t.Context(), graph("two"))
			require.NoError(t, err)
			why := findStep(t, res.Summary, "exec /bin/lt echo").Why
			assert.Contains(t, why, "MODE")
			assert.Contains(t, why, `"one"`)
			assert.NotContains(t, why, "no earlier build")
			assert.Empty(t, res.Summary.Warnings)

			// A read-only cache is read, never written.
			third, _ := testEngine(t, WithRecords(t.TempDir()), program, WithCache(cache.ReadOnly()))
			res, err = third.Build(t.Context(), graph("three"))
			require.NoError(t, err)
			assert.Contains(t, findStep(t, res.Summary, "exec /bin/lt echo").Why, `"two"`, "compares with the last writer's record")
		})
	}
}

// An unreachable cache costs one warning, also when only the record
// travels (no cache volume): reading it fails, and no save is tried.
func TestRecordUnreachableCacheWarnsOnce(t *testing.T) {
	cache := RegistryCache("127.0.0.1:1/lading-test/nowhere:cache")
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("record-unreachable-"+uniqueTag(t)), WithCache(cache))
	res, err := eng.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "echo", uniqueTag(t)}))
	require.NoError(t, err)
	require.Len(t, res.Summary.Warnings, 1, "%q", res.Summary.Warnings)
	assert.Contains(t, res.Summary.Warnings[0], "cache registry:127.0.0.1:1/lading-test/nowhere:cache cannot be read")
}
