package sdk

import (
	"path"
	"strings"
	"unicode/utf8"

	"github.com/ladingbuild/lading/internal/llb"
)

// caller is the user's call site: the caller of the exported function that
// calls caller.
func caller() llb.Location { return llb.Caller(2) }

// absPath checks a path inside a container: absolute, with no "..".
func absPath(loc llb.Location, op, arg, p string) (string, error) {
	switch {
	case p == "":
		return "", llb.Invalid(loc, op, arg, "the path is empty", `give an absolute path such as "/src"`)
	case !strings.HasPrefix(p, "/"):
		return "", llb.Invalid(loc, op, arg, "relative path "+llb.Quote(p), `container paths are absolute: start the path with "/"`)
	case hasDotDot(p):
		return "", llb.Invalid(loc, op, arg, "path "+llb.Quote(p)+" contains \"..\"", "write the path without \"..\" components")
	}
	if err := checkText(loc, op, arg, p); err != nil {
		return "", err
	}
	return path.Clean(p), nil
}

// relPath checks a path inside a Directory: relative to its root (a leading
// "/" means the root too), never escaping it.
func relPath(loc llb.Location, op, arg, p string) (string, error) {
	if p == "" {
		return "", llb.Invalid(loc, op, arg, "the path is empty", `give a path inside the directory, such as "bin/app" (or "." for the directory itself)`)
	}
	if hasDotDot(p) {
		return "", llb.Invalid(loc, op, arg, "path "+llb.Quote(p)+" escapes the directory", "paths inside a directory may not contain \"..\"")
	}
	if err := checkText(loc, op, arg, p); err != nil {
		return "", err
	}
	return path.Join("/", p), nil
}

// checkText refuses strings that are not valid UTF-8: BuildKit's
// definitions carry text as protobuf strings.
func checkText(loc llb.Location, op, arg string, values ...string) error {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return llb.Invalid(loc, op, arg, llb.Quote(v)+" is not valid UTF-8", "pass text as UTF-8; put binary data in a file")
		}
	}
	return nil
}

func hasDotDot(p string) bool {
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return true
		}
	}
	return false
}
