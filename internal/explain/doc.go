// Package explain says why build steps ran instead of coming from the
// cache, and when a whole build can be skipped.
//
// After a build the engine saves a [Record]: for every step its identity,
// operation, name, Go call site, a matching key that finds "the same step"
// in another build, and its inputs (arguments, env values, mounts, cache
// volumes, platform, the digest of a base image, the files of a host
// directory with their sizes, times and content hashes). Secrets appear by
// name only; proxy settings never. Records are small JSON files under the
// user's cache directory ([Store]), one per program and target, written
// atomically, the directory capped in size.
//
// [Compare] matches the steps of two records and names, for each step
// that will run again, the first input that changed ([Cause]); [Unchanged]
// decides that a build needs no engine at all: same graph, base images
// pinned by digest, the same host file contents and outputs as the last
// successful build. [HashHost] hashes a host directory the way BuildKit
// sends it (fsutil's filters, .dockerignore applied by the compiler),
// reading only files whose size or modification time changed since the
// previous record.
//
// The engine, sdktest's Explain and `lading explain` share this package,
// so an explanation reads the same offline and after a build.
package explain
