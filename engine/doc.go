// Package engine runs lading build graphs on a BuildKit daemon.
//
// [Connect] finds an engine — an explicit address ([WithAddress]),
// BUILDKIT_HOST, the local engine lading started earlier, or a new local
// buildkitd it starts ([StartLocal]) — and returns an [Engine]. Addresses
// use BuildKit's schemes: unix://, tcp:// (mutual TLS with [WithTLS];
// plaintext only to loopback unless [AllowInsecureTCP]),
// docker-container:// (through Docker's API), kube-pod:// and ssh://.
// The local engine runs rootless when lading is not root, and takes its
// binaries from the moby/buildkit image ([WithEngineImage]) before it
// builds them. [WithFleet] (LADING_FLEET) puts several engines behind one
// Engine: builds are routed by a key, sticky, and move once when their
// engine dies (docs/fleet.md).
//
// [Engine.Build] compiles an sdk value, solves it on the daemon in one
// gateway session (base image configs are resolved there, host directories
// and secrets served from there), shows progress through BuildKit's
// progressui ([WithProgress], LADING_PROGRESS), and sends the result to
// typed [Output]s: a registry ([Registry]), an OCI or Docker image tarball
// ([OCITarball], [DockerTarball]), a local Docker or Podman daemon
// ([DockerLoad], [PodmanLoad]), an offline bundle ([Bundle]) or a host
// path ([LocalPath]). The
// shortcuts [Engine.Publish], [Engine.Export], [Engine.Stdout] and
// [Engine.Stderr] cover the common cases. [Engine.With] derives an engine
// with other build options: remote caches ([WithCacheFrom], [WithCacheTo]),
// platforms ([WithPlatforms]), reproducible timestamps
// ([WithSourceDateEpoch]), an event stream ([WithEvents]).
//
// One [Option] type serves [Connect], [Engine.With] and [StartLocal], and
// each option's doc says where it applies: connection options (address,
// TLS, auto-start) at Connect only, local engine options (mirrors, the
// buildkitd binary, log output) at Connect and StartLocal, build options
// at Connect and With. An option given where it has no effect is an
// error naming it and where it belongs — from StartLocal at once, from
// every build of a With copy — never silently ignored.
//
// Errors callers branch on are typed: [ErrNoEngine] when no engine can be
// reached, when the engine goes away during a build, and from every method
// of an Engine not made by Connect (a nil *Engine or the zero Engine{});
// [*ExecError] when a step exits non-zero; [*RegistryAuthError] when a
// registry refuses a push or a pull for want of credentials (none found,
// or found and rejected). A cancelled context yields an error for which
// errors.Is(err, context.Canceled) holds. Messages quote a bounded prefix
// of any value given by the user, so a huge input never makes a huge error.
//
// Secret values the engine reads for a build are replaced by "***" in every
// log line, progress output, event and error it produces.
package engine
