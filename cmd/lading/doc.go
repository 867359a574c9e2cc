// Command lading manages lading's build engine.
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
