package main

import (
	"fmt"
	"strings"
)

// strayArgs says why lading engine CMD refuses the arguments left after
// its flags: they would otherwise be dropped in silence, and
// "prune -keep-storage 10 GB" would keep 10 bytes, not 10 GiB.
func strayArgs(cmd string, args []string) error {
	fix := "flags come before any other word"
	if cmd == "prune" {
		fix = "write a size or duration without a space (-keep-storage 10GB, -keep-duration 3d) and name a volume with -volume NAME"
	}
	return fmt.Errorf("lading engine %s takes no argument %q: %s", cmd, strings.Join(args, " "), fix)
}
