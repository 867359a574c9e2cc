// Package sdk describes container builds as ordinary Go values.
//
// A build is a graph of immutable values: a Container (a root filesystem,
// an image config and the state RUN steps see), a Directory, a File. Every
// With* method returns a new value and leaves its receiver untouched, so
// values can be shared, reused as stages and built from many goroutines at
// once.
//
// Builders never return errors. A bad argument is recorded on the value,
// with the Go file:line that made it, and reported as a *ValidationError
// when the value is compiled or run; nothing reaches the daemon until then.
//
// Nothing here talks to a daemon: package engine runs values on BuildKit,
// and package sdktest turns them into readable plans for unit tests.
package sdk
