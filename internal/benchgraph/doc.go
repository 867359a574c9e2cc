// Package benchgraph is the graph that compile benchmarks build two ways:
// with the SDK and by hand in raw BuildKit LLB. An image, then n steps that
// each set an env var and run a command with a cache mount.
package benchgraph
