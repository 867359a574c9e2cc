package lint

import (
	"strings"

	"github.com/ladingbuild/lading/lock"
)

// WithLock treats what the lock f records as pinned: an image tag the lock
// records for any platform (base-unpinned and base-latest accept it), a
// Git ref it records a commit for and a download it records a checksum
// for. A nil lock pins nothing.
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
		case HTTPSource:
			_, ok := f.Checksum(s.Ref)
			return ok
		}
		return false
	})
}
