package lock

import "fmt"

// NotLockedError is a source a frozen build pulls that the lock does not
// record.
type NotLockedError struct {
	// Kind is "image", "git" or "http".
	Kind string
	// Source is the image reference, "URL#ref" or URL (URLs as SourceURL
	// masks them).
	Source string
	// Platform is the image's platform ("linux/amd64"), for images.
	Platform string
	// Location is the Go file:line of the step that uses the source, when
	// known.
	Location string
	// Path is the lock file's path.
	Path string
}

func (e *NotLockedError) Error() string {
	src := e.Source
	if e.Platform != "" {
		src += " (" + e.Platform + ")"
	}
	at := ""
	if e.Location != "" {
		at = e.Location + ": "
	}
	return fmt.Sprintf("%s%s %s is not in the lock %s, and the build is frozen: run `lading lock update` and commit the lock", at, e.Kind, src, e.Path)
}
