package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"sync"
)

// The daemon metrics send host directories that no later build will use
// again: 20,000 files, several times over, for the context metric. Their
// local-source records are removed from the engine at the end, and nothing
// else: one `buildctl prune --all` restricted by filters on the exact
// descriptions of the benchmark's own sources ("local source for NAME",
// where NAME is lading's name for a temporary directory or the peer's
// lading-bench-context). A private engine (-own-engine) is removed whole
// instead.

var localsMu sync.Mutex

// ownLocal records a local source name the benchmark created.
func (c *config) ownLocal(name string) {
	localsMu.Lock()
	defer localsMu.Unlock()
	if c.locals == nil {
		c.locals = map[string]bool{}
	}
	c.locals[name] = true
}

// cleanupLocals removes the recorded local sources from the engine.
func (c *config) cleanupLocals(ctx context.Context) {
	localsMu.Lock()
	defer localsMu.Unlock()
	if c.buildctl == "" || c.addr == "" || len(c.locals) == 0 || c.ownEngine {
		return
	}
	args := []string{"--addr", c.addr, "prune", "--all"}
	names := make([]string, 0, len(c.locals))
	for name := range c.locals {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		args = append(args, "--filter", fmt.Sprintf("description==%q", "local source for "+name))
	}
	out, err := exec.CommandContext(context.WithoutCancel(ctx), c.buildctl, args...).CombinedOutput()
	if err != nil {
		c.logf("removing the benchmark's %d local sources from the engine: %v\n%s", len(names), err, tailLines(string(out), 5))
		return
	}
	c.locals = nil
}
