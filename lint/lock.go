package lint

import (
	"strings"

	"github.com/ladingbuild/lading/lock"
)

// WithLock treats what the lock f records as pinned: an image tag the lock
// records for any platform (base-unpinned and base-latest accept it) and a
// Git ref it records a commit for. A nil lock pins nothing.
func WithLock(f *lock.File) Option {
	if f == nil {
		return PinnedBy(nil)
	}
	return PinnedBy(func(s Source) bool {
		switch s.Kind {
		case ImageSource:
			return f.HasImage(s.Ref)
		case GitSource:
			i := strings.LastIndex(s.Ref, "#")
			if i < 0 {
				return false
			}
			_, ok := f.GitCommit(s.Ref[:i], s.Ref[i+1:])
			return ok
		}
		return false
	})
}
