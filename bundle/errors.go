package bundle

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is what is wrong with a blob.
type Problem int

const (
	// Missing: the bundle has no file for the blob.
	Missing Problem = iota + 1
	// WrongSize: the file's size is not the descriptor's.
	WrongSize
	// WrongDigest: the file's content does not hash to its digest.
	WrongDigest
	// Unreadable: the file cannot be read, or a manifest cannot be parsed.
	Unreadable
)

// phrase says what the problem is, after "the blob".
func (p Problem) phrase() string {
	switch p {
	case Missing:
		return "is missing"
	case WrongSize:
		return "has the wrong size"
	case WrongDigest:
		return "has the wrong content"
	case Unreadable:
		return "cannot be read"
	}
	return "is damaged"
}

func (p Problem) String() string {
	switch p {
	case Missing:
		return "missing"
	case WrongSize:
		return "wrong size"
	case WrongDigest:
		return "wrong digest"
	case Unreadable:
		return "unreadable"
	}
	return "unknown problem"
}

// BlobError is a blob of a bundle that is missing or damaged. [List],
// [Verify] and [Push] return it (joined with the others found, up to
// 20); use errors.As to find it.
type BlobError struct {
	// Bundle is the bundle's path.
	Bundle string
	// Digest and Size are what the descriptor naming the blob says.
	Digest string
	Size   int64
	// What says what the blob is ("layer 2 of linux/amd64").
	What string
	// Image is the reference of the first image that uses the blob.
	Image string
	// Problem is what is wrong; Detail says more ("4096 bytes, want
	// 4100", "hashes to sha256:…").
	Problem Problem
	Detail  string
}

func (e *BlobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bundle %s: blob %s (%s of %s) %s", e.Bundle, e.Digest, e.What, e.Image, e.Problem.phrase())
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	b.WriteString("; the bundle is damaged: copy it again from where it was made, or make it again (lading bundle create)")
	return b.String()
}

// maxProblems bounds the problems one error lists.
const maxProblems = 20

// joinProblems joins problems into one error, listing at most
// maxProblems.
func joinProblems(ps []*BlobError) error {
	if len(ps) == 0 {
		return nil
	}
	var errs []error
	for i, p := range ps {
		if i == maxProblems {
			errs = append(errs, fmt.Errorf("and %d more damaged blobs", len(ps)-maxProblems))
			break
		}
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

func prefix(err error) error {
	if err == nil || strings.HasPrefix(err.Error(), "bundle") {
		return err
	}
	return fmt.Errorf("bundle: %w", err)
}
