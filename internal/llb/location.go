package llb

import (
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
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

// Caller returns the location skip frames above its caller. Locations are
// remembered by program counter: a program makes its steps from a fixed set
// of lines, often in loops, and looking a line up again costs no
// allocation.
func Caller(skip int) Location {
	var pcs [1]uintptr
	if runtime.Callers(skip+2, pcs[:]) == 0 {
		return Location{}
	}
	pc := pcs[0]
	locations.RLock()
	l, ok := locations.byPC[pc]
	locations.RUnlock()
	if ok {
		return l
	}
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if frame.File == "" {
		return Location{}
	}
	l = location(frame.File, frame.Line)
	locations.Lock()
	locations.byPC[pc] = l
	locations.Unlock()
	return l
}

// locations caches Caller's answers by program counter.
var locations = struct {
	sync.RWMutex
	byPC map[uintptr]Location
}{byPC: map[uintptr]Location{}}

// location keeps the last directory and the name of a source file.
func location(file string, line int) Location {
	dir, name := filepath.Split(file)
	if parent := filepath.Base(filepath.Clean(dir)); parent != "." && parent != string(filepath.Separator) {
		name = parent + "/" + name
	}
	return Location{File: name, Line: line}
}
