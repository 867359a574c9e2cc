package engine

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScrubber(t *testing.T) {
	s := newScrubber([][]byte{
		[]byte("hunter2-long"),
		[]byte("hunter2-long-and-longer"),
		[]byte(""),
		[]byte("  \n"),
		[]byte("-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n-----END KEY-----\n"),
	})
	for in, want := range map[string]string{
		"token=hunter2-long end":        "token=*** end",
		"x hunter2-long-and-longer y":   "x *** y",
		"nothing here":                  "nothing here",
		"line AAAABBBBCCCCDDDD printed": "line *** printed",
		"-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n-----END KEY-----\n": "***",
	} {
		assert.Equal(t, want, s.String(in), in)
	}
	err := fmt.Errorf("wrapped: %w", errSentinel)
	serr := newScrubber([][]byte{[]byte("sentinel")}).Error(err)
	assert.Equal(t, "wrapped: ***", serr.Error())
	require.ErrorIs(t, serr, errSentinel)

	var none *scrubber
	assert.Equal(t, "a", none.String("a"))
	assert.Equal(t, err, newScrubber(nil).Error(err))
}

var errSentinel = errors.New("sentinel")

// logBuffer is a goroutine-safe strings.Builder.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
