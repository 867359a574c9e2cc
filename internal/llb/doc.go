// Package llb is lading's compiler. It holds the internal model that the
// public sdk values wrap, checks it, and compiles it into a BuildKit LLB
// definition plus the OCI image config the exported image must carry.
//
// The model is immutable: every node is built once and never changed, so a
// value can be compiled from many goroutines at once. Compilation is pure and
// deterministic: the same program yields the same definition bytes. The only
// inputs from outside are the base image configs, which come through an
// ImageResolver, and a host directory's .dockerignore file.
package llb
