// Command bench measures lading against what its users would use instead,
// side by side, on the real engine.
//
//	go run ./bench                 # the full suite (medians of 5 runs)
//	go run ./bench -quick          # few runs, small sizes: what CI runs
//	go run ./bench -only compile,build -runs 7 -check
//
// Metrics (see docs/performance.md for the latest numbers):
//
//   - compile: the SDK against the same graph written by hand in raw
//     BuildKit llb, at 10, 200 and 2000 steps (time and allocations per
//     compile, including marshalling).
//   - build: examples/multistage through lading against the same build as a
//     Dockerfile (testdata/multistage.Dockerfile) built by buildctl with the
//     dockerfile.v0 frontend on the same engine; cold and fully cached.
//   - context: a generated tree of files sent as sdk.Host against buildctl
//     --local: first transfer, then re-transfer after one file changed; time
//     and the bytes the daemon reports as transferred.
//   - start: from nothing to a ready local engine (engine.StartLocal with a
//     fresh state directory), against starting the same buildkitd by hand.
//   - parallel: two independent 3-second stages in one build against one
//     stage alone.
//   - process: the built examples/multistage program (build target, fully
//     cached) as a whole process against buildctl building the same
//     Dockerfile as a whole process (process-cached), many paired runs.
//
// The two sides of a comparison run interleaved (A B A B …) so that both see
// the same machine load, and every figure is the median of the runs.
//
// The program prints a table (metric, lading, peer, ratio, target, pass) and,
// per metric with a target, one line for scripts:
//
//	ratio NAME VALUE target TARGET     lading / peer
//	seconds NAME VALUE target TARGET   an absolute time
//	bytes NAME VALUE target TARGET     an absolute size
//
// It exits non-zero when a metric could not be measured (so that CI's
// -quick run catches a benchmark that rotted), and with -check also when a
// target is missed.
//
// The daemon metrics need an engine: -addr, else BUILDKIT_HOST, else the
// test environment's buildkitd (bash hack/testenv.sh up), and buildctl
// (-buildctl, default: the test environment's, else PATH). They never prune
// a daemon the benchmark does not own unless -allow-prune is given: "cold"
// builds then mean "no cached steps", obtained by a unique change to the
// build context's go.mod on each run, for both sides alike (see build.go).
// With -own-engine the benchmark starts a private local engine in a
// temporary directory, prunes it freely, and removes it at the end.
package main
