package engine

import (
	"context"
	"fmt"
	"regexp"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
)

// featureLockSources: the engine resolves Git refs and downloads for the
// lock (ResolveSourceMetadata of Git and HTTP sources). No capability
// names those resolvers; engines with the source policy session have
// them, and older ones answer without a commit or checksum.
var featureLockSources = feature{
	name:        "locking Git refs and downloads",
	minVersion:  "v0.26.0",
	gatewayCaps: []apicaps.CapID{gatewaypb.CapSourceMetaResolver},
	llbCaps:     []apicaps.CapID{pb.CapSourcePolicySession},
}

// resolvesSources says whether locking p asks the engine to resolve a Git
// ref or a download.
func resolvesSources(p *lllb.Program) bool {
	for _, d := range p.Downloads {
		if d.Given == "" {
			return true
		}
	}
	for _, s := range indexSources(p).git {
		if !commitLike(s.ref) {
			return true
		}
	}
	return false
}

// checksums is what the compiler asks for a download without a checksum
// of its own (sdk.HTTP(url, "")): the checksum the lock records, in
// pinned and frozen mode; nil in live mode.
func (g *guard) checksums() func(string) (string, bool) {
	if g == nil || g.mode == lock.Live || g.lock == nil {
		return nil
	}
	return g.lock.Checksum
}

// frozenDownloads fails on the first download of pre without a checksum
// of its own that the lock does not record.
func (g *guard) frozenDownloads(pre *lllb.Program) error {
	for _, d := range pre.Downloads {
		if d.Given != "" {
			continue
		}
		if _, ok := g.lock.Checksum(d.URL); !ok {
			return &lock.NotLockedError{Kind: "http", Source: lock.SourceURL(d.URL), Location: d.Location, Path: g.path}
		}
	}
	return nil
}

// resolveHTTP records in f the sha256 of what each download of prog
// without a checksum serves now. The engine fetches it (with its proxy,
// CA and the build's source policy), as a build would.
func resolveHTTP(ctx context.Context, c gateway.Client, prog *lllb.Program, f *lock.File) error {
	for _, d := range prog.Downloads {
		if d.Given != "" {
			continue
		}
		if _, ok := f.Checksum(d.URL); ok {
			continue
		}
		op := &pb.SourceOp{Identifier: d.URL}
		md, err := c.ResolveSourceMetadata(ctx, op, sourceresolver.Opt{HTTPOpt: &sourceresolver.ResolveHTTPOpt{}})
		if err != nil {
			return fmt.Errorf("%s: resolving the download %s: %w", d.Location, lock.SourceURL(d.URL), err)
		}
		if md.HTTP == nil || md.HTTP.Digest == "" {
			return fmt.Errorf("%s: resolving the download %s: the engine returned no checksum", d.Location, lock.SourceURL(d.URL))
		}
		f.SetHTTP(d.URL, md.HTTP.Digest.String())
	}
	return nil
}

// BuildKit's errors for a download whose content is not the checksum the
// op carries: "digest mismatch for URL: GOT (expected: WANT)" when it
// compares with what it fetched before, "digest mismatch GOT: WANT" when
// it has just fetched it.
var (
	mismatchURL = regexp.MustCompile(`digest mismatch for (\S+): (sha\d+:[0-9a-f]+) \(expected: (sha\d+:[0-9a-f]+)\)`)
	mismatch    = regexp.MustCompile(`digest mismatch (sha\d+:[0-9a-f]+): (sha\d+:[0-9a-f]+)`)
)

// parseMismatch returns the URL (or ""), what was got and what was wanted
// from BuildKit's error.
func parseMismatch(msg string) (url, got, want string, ok bool) {
	if m := mismatchURL.FindStringSubmatch(msg); m != nil {
		return m[1], m[2], m[3], true
	}
	if m := mismatch.FindStringSubmatch(msg); m != nil {
		return "", m[1], m[2], true
	}
	return "", "", "", false
}

// downloadError turns BuildKit's checksum mismatch of a download into a
// *DownloadChangedError naming the URL, the step's Go line and where the
// checksum came from; nil for any other error.
func (g *guard) downloadError(err error, progs []*lllb.Program) error {
	if err == nil {
		return nil
	}
	url, got, want, ok := parseMismatch(err.Error())
	if !ok {
		return nil
	}
	// The URL BuildKit names is the download's, or the one a source policy
	// rewrote it to: match by URL first, then by checksum alone.
	for _, byURL := range []bool{true, false} {
		if d, ok := findDownload(progs, want, url, byURL); ok {
			out := &DownloadChangedError{URL: lock.SourceURL(d.URL), Location: d.Location, Checksum: d.Checksum, Served: got, err: err}
			if d.Given == "" && g != nil {
				out.Lock = g.path
			}
			return out
		}
	}
	return nil
}

// findDownload is the download of progs verified against want, at url
// (as BuildKit shows it) when byURL is set.
func findDownload(progs []*lllb.Program, want, url string, byURL bool) (lllb.Download, bool) {
	for _, p := range progs {
		for _, d := range p.Downloads {
			if d.Checksum != want || (byURL && url != "" && lock.SourceURL(d.URL) != url) {
				continue
			}
			return d, true
		}
	}
	return lllb.Download{}, false
}

// DownloadChangedError is a download whose content is no longer the
// checksum the build verifies it against: the one the lock records
// (Lock is the lock's path) or the one sdk.HTTP gives (Lock is "").
type DownloadChangedError struct {
	// URL is the download's address, its user and password masked.
	URL string
	// Location is the Go file:line of the sdk.HTTP step.
	Location string
	// Checksum is the checksum the build verified against; Served is the
	// checksum of what the server sent.
	Checksum, Served string
	// Lock is the path of the lock the checksum comes from, or "" when the
	// program gives it.
	Lock string
	err  error
}

func (e *DownloadChangedError) Error() string {
	at := ""
	if e.Location != "" {
		at = e.Location + ": "
	}
	if e.Lock != "" {
		return fmt.Sprintf("%sthe download %s changed since it was locked: the lock %s records %s, the server sent %s: check the new content, then run `lading lock update` and commit the lock", at, e.URL, e.Lock, e.Checksum, e.Served)
	}
	return fmt.Sprintf("%sthe download %s does not match its checksum: sdk.HTTP gives %s, the server sent %s: check the new content, then update the checksum in the code", at, e.URL, e.Checksum, e.Served)
}

// Unwrap returns the engine's error.
func (e *DownloadChangedError) Unwrap() error { return e.err }
