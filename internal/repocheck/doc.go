// Package repocheck holds the repository's hygiene rules, checked by its
// tests on every `go test ./...`: no git-tracked file is larger than
// MaxFileSize, and none is a compiled executable (ELF, Mach-O or PE), which
// belongs in .gitignore and would otherwise be shipped as build context by
// every `go run ./ci`.
//
// The rules apply to the files git tracks (TrackedFiles), as they are in the
// working tree; untracked and ignored files are not the repository's.
package repocheck
