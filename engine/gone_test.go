package engine

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestUnavailableFromALiveEngine: a gRPC Unavailable that an engine still
// answering passes on (from some other service) is not "the engine went
// away". The engine's real death is in reliability's kill tests.
func TestUnavailableFromALiveEngine(t *testing.T) {
	e, _ := testEngine(t)
	err := fmt.Errorf("failed to solve: %w", status.Error(codes.Unavailable, "cache backend: connection refused"))
	got := e.classify(t.Context(), err)
	require.NotErrorIs(t, got, ErrNoEngine)
	assert.ErrorIs(t, got, err)
}
