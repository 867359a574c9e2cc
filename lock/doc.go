// Package lock reads and writes lading.lock: the record of everything
// mutable a build graph pulls, so that a build resolves the same bytes
// tomorrow as today without editing code.
//
// A File records each base image tag's digest per platform, each Git
// ref's commit and each HTTP URL's checksum. The engine uses it in one of
// three Modes (engine.WithLock, or LADING_LOCK=pinned|frozen):
//
//   - Live resolves every source as the registry has it now (the default).
//   - Pinned resolves what the lock records to the recorded digest, and
//     what it does not record live.
//   - Frozen is Pinned that fails, naming the source and the Go file:line
//     of the step, when a source is not in the lock (for release builds):
//     a *NotLockedError.
//
// `lading lock update` (or engine.Engine.Lock) resolves the graph live and
// writes the file; Diff says what moved since the last update, and
// `lading lock check` fails when the file is stale.
//
// The file is JSON, sorted, one entry per source and platform, so that a
// change reads well in review.
package lock
