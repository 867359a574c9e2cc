package bundle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// CheckTarget reports whether [Add] may write a bundle at path: there is
// nothing there, an empty directory, or a bundle (directory or tar). A
// file or directory that is not a bundle is an error, as Add would
// refuse it. It reads no blob. Callers that spend time before adding (a
// build whose image goes into the bundle) ask first.
func CheckTarget(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("bundle: no path to write the bundle to")
	}
	dest, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if _, err := checkReplaceable(ctx, dest, isTar(dest)); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}
