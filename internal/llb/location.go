package llb

import (
	"path/filepath"
	"runtime"
	"strconv"
)

// Location is the Go source position that created a step.
type Location struct {
	File string // the last two elements of the file's path, e.g. "ci/main.go"
	Line int
}

// String formats the location as file:line.
func (l Location) String() string {
	if l.File == "" {
		return "unknown"
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// Caller returns the location skip frames above its caller.
func Caller(skip int) Location {
	_, file, line, ok := runtime.Caller(skip + 1)
	if !ok {
		return Location{}
	}
	dir, name := filepath.Split(file)
	if parent := filepath.Base(filepath.Clean(dir)); parent != "." && parent != string(filepath.Separator) {
		name = parent + "/" + name
	}
	return Location{File: name, Line: line}
}
