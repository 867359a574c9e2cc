package llb

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func here() Location { return Caller(1) }

// Caller names the line that called, each time, and a line looked up
// before costs no allocation.
func TestCallerNamesTheCallingLine(t *testing.T) {
	_, _, line, _ := runtime.Caller(0)
	var got []Location
	for range 3 {
		got = append(got, here()) // line+3
	}
	other := here() // line+5
	for _, l := range got {
		assert.Equal(t, Location{File: "llb/location_test.go", Line: line + 3}, l)
	}
	assert.Equal(t, Location{File: "llb/location_test.go", Line: line + 5}, other)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = here() }), "a known line allocates nothing")
}
