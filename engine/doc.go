// Package engine runs lading build graphs on a BuildKit daemon.
//
// [Connect] finds an engine — an explicit address, BUILDKIT_HOST, the local
// engine lading started earlier, or a new local buildkitd it starts — and
// returns an [Engine]. [Engine.Build] compiles an sdk value, solves it on the
// daemon with progress shown through BuildKit's progressui, and sends the
// result to typed [Output]s: a registry ([Registry]), an OCI or Docker image
// tarball ([OCITarball], [DockerTarball]) or a host path ([LocalPath]).
//
// Errors callers branch on are typed: [ErrNoEngine] when no engine can be
// reached, [*ExecError] when a step exits non-zero. A cancelled context
// yields an error for which errors.Is(err, context.Canceled) holds.
//
// Secret values the engine reads for a build are replaced by "***" in every
// log line, progress output, event and error it produces.
package engine
