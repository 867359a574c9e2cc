// Command lading manages lading's build engine and reads what builds made.
//
//	lading explain OLD NEW  which steps of a build run again and why
//	lading lint PROGRAM     lint a pipeline program's images, offline
//	lading lock             update or check a pipeline program's lading.lock
//	lading inspect IMAGE    an image's config, platforms, provenance and SBOM
//	lading bundle …         offline bundles: create, ls, verify, push
//	lading fleet [KEY …]    a fleet's engines, up or down, and where keys go
//
//	lading engine start    start the local engine (or report the running one)
//	lading engine stop     stop the local engine lading started
//	lading engine status   address, pid, version and workers of the engine
//	lading engine du       the engine's build cache and its size
//	lading engine prune    remove unused build cache (--all, --keep-duration, --keep-storage)
//
// The engine is found as engine.Connect finds it: --addr, BUILDKIT_HOST, the
// local engine lading started.
package main
