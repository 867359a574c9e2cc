package lock_test

import (
	"fmt"
	"strings"

	"github.com/ladingbuild/lading/lock"
)

// A tag moved in the registry since the lock was written: Diff says so.
func ExampleDiff() {
	old := lock.New()
	old.SetImage("docker.io/library/debian:bookworm", "linux/amd64", "sha256:"+strings.Repeat("a", 64))
	now := lock.New()
	now.SetImage("docker.io/library/debian:bookworm", "linux/amd64", "sha256:"+strings.Repeat("b", 64))
	now.SetImage("docker.io/library/golang:1.26", "linux/amd64", "sha256:"+strings.Repeat("c", 64))
	for _, c := range lock.Diff(old, now) {
		fmt.Println(c)
	}
	// Output:
	// image docker.io/library/debian:bookworm (linux/amd64): moved sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -> sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
	// image docker.io/library/golang:1.26 (linux/amd64): added sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
}
