package main

import (
	"os"
	"testing"
)

// TestCounterAgainstRedis talks to a real Redis server at REDIS_ADDR: in
// the pipeline, a Redis service bound to the test step.
func TestCounterAgainstRedis(t *testing.T) {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		t.Skip("REDIS_ADDR is not set: run it with the pipeline's Redis service (go run ./examples/services test)")
	}
	r := &Redis{Addr: addr}
	if err := r.Del("visits"); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	for want := int64(1); want <= 3; want++ {
		got, err := r.Incr("visits")
		if err != nil {
			t.Fatalf("INCR: %v", err)
		}
		if got != want {
			t.Fatalf("visit %d counted as %d", want, got)
		}
	}
}
