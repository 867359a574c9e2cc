// Command sbomscanner is the SBOM scanner image of lading's test
// environment: it implements BuildKit's scanner protocol with syft's Go
// module, as docker/buildkit-syft-scanner does, so that BuildKit's
// attest:sbom can run in a sandbox that cannot pull Docker Hub.
//
// The protocol (github.com/moby/buildkit/frontend/attestations/sbom): the
// image's root filesystem is mounted read-only at $BUILDKIT_SCAN_SOURCE;
// the scanner writes one in-toto statement per file into
// $BUILDKIT_SCAN_DESTINATION, with predicate type https://spdx.dev/Document
// and an SPDX JSON document as predicate. BuildKit attaches each statement
// to the image with the image as its subject. Extra states
// ($BUILDKIT_SCAN_SOURCE_EXTRAS) are not scanned.
//
// With BUILDKIT_SCAN_SOURCE_DATE_EPOCH (Unix seconds) the document's
// creation time is that epoch, and its namespace is derived from the
// scanned content instead of a random UUID.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/source"
)

// version is the syft module version this scanner is built with.
const version = "v1.57.1"

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "sbomscanner: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("sbomscanner syft " + version)
		return nil
	}
	src := os.Getenv("BUILDKIT_SCAN_SOURCE")
	dst := os.Getenv("BUILDKIT_SCAN_DESTINATION")
	if src == "" || dst == "" {
		return fmt.Errorf("BUILDKIT_SCAN_SOURCE and BUILDKIT_SCAN_DESTINATION must be set (BuildKit's scanner protocol)")
	}
	name := filepath.Base(src)
	s, err := syft.GetSource(ctx, src, syft.DefaultGetSourceConfig().
		WithSources("dir").
		WithAlias(source.Alias{Name: name}))
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	// The directory is an image's root filesystem: catalog it as an image
	// (installed packages, binaries), not as a source tree. Without the
	// RPM database cataloger: it needs an SQLite driver (modernc.org/sqlite,
	// minutes of compile on the test machines) and the test environment's
	// images are Debian's.
	cfg := syft.DefaultCreateSBOMConfig().
		WithTool("lading-sbomscanner", version).
		WithCatalogerSelection(cataloging.NewSelectionRequest().
			WithDefaults(pkgcataloging.ImageTag).
			WithRemovals("rpm-db-cataloger"))
	sb, err := syft.CreateSBOM(ctx, s, cfg)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", src, err)
	}
	enc, err := spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	if err := enc.Encode(&doc, *sb); err != nil {
		return fmt.Errorf("encoding SPDX: %w", err)
	}
	predicate := doc.Bytes()
	if v := os.Getenv("BUILDKIT_SCAN_SOURCE_DATE_EPOCH"); v != "" {
		if predicate, err = pinned(predicate, v); err != nil {
			return err
		}
	}
	stmt, err := json.Marshal(struct {
		Type          string          `json:"_type"`
		PredicateType string          `json:"predicateType"`
		Subject       []any           `json:"subject"`
		Predicate     json.RawMessage `json:"predicate"`
	}{"https://in-toto.io/Statement/v0.1", "https://spdx.dev/Document", []any{}, predicate})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, name+".spdx.json"), stmt, 0o644)
}

var (
	createdRe   = regexp.MustCompile(`"created":"[^"]*"`)
	namespaceRe = regexp.MustCompile(`"documentNamespace":"[^"]*"`)
)

// pinned replaces the document's creation time with the epoch and its
// random namespace with one derived from the rest of the document.
func pinned(doc []byte, epoch string) ([]byte, error) {
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("BUILDKIT_SCAN_SOURCE_DATE_EPOCH=%q: want Unix seconds", epoch)
	}
	created := time.Unix(sec, 0).UTC().Format(time.RFC3339)
	doc = createdRe.ReplaceAll(doc, []byte(`"created":"`+created+`"`))
	sum := sha256.Sum256(namespaceRe.ReplaceAll(doc, nil))
	ns := "https://ladingbuild.dev/spdx/" + hex.EncodeToString(sum[:16])
	return namespaceRe.ReplaceAll(doc, []byte(`"documentNamespace":"`+ns+`"`)), nil
}
