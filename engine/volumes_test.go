package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVolumeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ, desc    string
		name, target string
		ok           bool
	}{
		{recordCacheMount, `cached mount /go/pkg/mod from exec go mod download with id "go-mod"`, "go-mod", "/go/pkg/mod", true},
		{recordCacheMount, `cached mount /cache from exec sh -c echo with id "x" with id "vol \"q\""`, `vol "q"`, "/cache", true},
		{recordCacheMount, `cached mount /root/.m2 from exec mvn package`, "/root/.m2", "/root/.m2", true},
		{recordCacheMount, `cached mount /cache from exec x with id "unterminated`, "", "", false},
		{recordCacheMount, `something else`, "", "", false},
		{"regular", `cached mount /cache from exec x with id "v"`, "", "", false},
	} {
		name, target, ok := volumeName(CacheRecord{Type: tc.typ, Description: tc.desc})
		assert.Equal(t, tc.ok, ok, tc.desc)
		assert.Equal(t, tc.name, name, tc.desc)
		assert.Equal(t, tc.target, target, tc.desc)
	}
}

func TestVolumesOf(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	recs := []CacheRecord{
		{Type: recordCacheMount, Description: `cached mount /a from exec x with id "v"`, Size: 10, LastUsed: t1},
		{Type: recordCacheMount, Description: `cached mount /b from exec y with id "v"`, Size: 5, LastUsed: t2, InUse: true},
		{Type: recordCacheMount, Description: `cached mount /c from exec z with id "w"`, Size: 100},
		{Type: "regular", Description: "mount / from exec x", Size: 1000},
	}
	assert.Equal(t, []VolumeUsage{
		{Name: "w", Size: 100, Records: 1, Targets: []string{"/c"}},
		{Name: "v", Size: 15, LastUsed: t2, InUse: true, Records: 2, Targets: []string{"/a", "/b"}},
	}, volumesOf(recs))
}

// Like the other methods (zero_test.go), CacheVolumes and a Prune of
// volumes on an engine not from Connect return ErrNoEngine, and a nil
// DiskUsage has no volumes.
func TestVolumesWithoutEngine(t *testing.T) {
	t.Parallel()
	for name, e := range map[string]*Engine{"nil": nil, "zero": {}} {
		_, err := e.CacheVolumes(t.Context())
		require.ErrorIs(t, err, ErrNoEngine, name)
		_, err = e.Prune(t.Context(), PruneOptions{Volumes: []string{"v"}})
		require.ErrorIs(t, err, ErrNoEngine, name)
	}
	var du *DiskUsage
	assert.Empty(t, du.Volumes())
}
