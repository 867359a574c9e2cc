package explain_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/explain"
)

// rec is a record of program p, target t with steps of the given ids.
func rec(name string, ids ...string) *explain.Record {
	r := &explain.Record{Version: explain.Version, Program: "p", Target: "t", Digest: name, Time: time.Now()}
	for _, id := range ids {
		r.Steps = append(r.Steps, explain.Step{ID: id, Op: "exec", Key: id})
	}
	return r
}

// TestStoreKeepsTargetsOfOneHelperApart: two targets with one record key
// (one helper, two services) each find their own last build, the same
// build again replaces its record, and at most History records stay.
func TestStoreKeepsTargetsOfOneHelperApart(t *testing.T) {
	t.Parallel()
	s := explain.Store{Dir: t.TempDir()}
	load := func(cur *explain.Record) (string, int) {
		t.Helper()
		r, replace, err := s.LoadBest("p", "t", cur)
		require.NoError(t, err)
		if r == nil {
			return "", replace.Index()
		}
		return r.Digest, replace.Index()
	}
	save := func(cur *explain.Record) {
		t.Helper()
		_, replace, err := s.LoadBest("p", "t", cur)
		require.NoError(t, err)
		require.NoError(t, s.SaveOver(cur, replace))
	}
	save(rec("a1", "base", "a-src", "a-build"))
	save(rec("b1", "base", "b-src", "b-build"))

	got, replace := load(rec("a2", "base", "a-src", "a-build2"))
	assert.Equal(t, "a1", got, "a's build is compared with a's record, not the newer b's")
	assert.Equal(t, -1, replace, "a changed a: kept beside a1")
	got, replace = load(rec("b1", "base", "b-src", "b-build"))
	assert.Equal(t, "b1", got)
	assert.Equal(t, 0, replace, "the same build again replaces its record")
	got, replace = load(rec("a1", "base", "a-src", "a-build"))
	assert.Equal(t, "a1", got)
	assert.Equal(t, 1, replace)

	save(rec("a1 again", "base", "a-src", "a-build"))
	got, _ = load(rec("b", "base", "b-src", "b-build"))
	assert.Equal(t, "b1", got, "b's record moved a slot, not lost")
	for i := range 5 {
		save(rec("c", "c", string(rune('0'+i))))
	}
	files, err := filepath.Glob(filepath.Join(s.Dir, "*.json"))
	require.NoError(t, err)
	assert.Len(t, files, explain.History)
	got, _ = load(rec("x", "base", "a-src", "a-build"))
	assert.Equal(t, "c", got, "the oldest went; nothing shares a step, so the newest")
}

// TestStoreKeepsARecordWrittenMeanwhile: two builds of one key in
// parallel (a pipeline building two services of one helper) each
// replace the record they read; the one written in between by the other
// build is kept, not overwritten.
func TestStoreKeepsARecordWrittenMeanwhile(t *testing.T) {
	t.Parallel()
	s := explain.Store{Dir: t.TempDir()}
	a := rec("a", "base", "a-src")
	require.NoError(t, s.SaveOver(a, explain.NoSlot))
	_, slotA, err := s.LoadBest("p", "t", a) // build a starts: it will replace a
	require.NoError(t, err)
	require.Equal(t, 0, slotA.Index())
	time.Sleep(20 * time.Millisecond)                                         // a later modification time
	require.NoError(t, s.SaveOver(rec("b", "base", "b-src"), explain.NoSlot)) // build b ends first
	require.NoError(t, s.SaveOver(rec("a", "base", "a-src"), slotA))          // then a
	got, _, err := s.LoadBest("p", "t", rec("b", "base", "b-src"))
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "b", got.Digest, "b's record survived a's save")
}
