package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two savers committing saves of one volume at once always leave the link
// on a complete save: one saver's clean-up never removes the save the
// other has just switched the link to.
func TestConcurrentLocalCommitsKeepTheLinkedSave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dangling int
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				tmp, err := newLocalSaveDir(dir, "v")
				if err != nil { // not require: this is not the test's goroutine
					t.Error(err)
					return
				}
				body := strconv.Itoa(w) + "-" + strconv.Itoa(i)
				assert.NoError(t, os.WriteFile(filepath.Join(tmp, "index.json"), []byte(body), 0o644))
				assert.NoError(t, commitLocalSave(dir, "v", tmp))
				if _, err := os.Stat(filepath.Join(volumeDir(dir, "v"), "index.json")); err != nil {
					mu.Lock()
					dangling++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, dangling, "the link pointed at a removed save")
	_, err := os.ReadFile(filepath.Join(volumeDir(dir, "v"), "index.json"))
	require.NoError(t, err, "the last save is complete")
}
