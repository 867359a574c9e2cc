package llb

import (
	"slices"
	"strings"
)

// Download is an HTTP source of a compiled graph, for the lock: which
// URLs a build downloads, and whether the program pins their content.
type Download struct {
	// URL is the address the step downloads.
	URL string
	// Given is the checksum the program gives (sdk.HTTP's second
	// argument), "" for a download the lock governs.
	Given string
	// Checksum is the checksum compiled into the graph: Given, or the one
	// Options.Checksums returned (a lock's), or "" (downloaded live).
	Checksum string
	// Location is the Go file:line of the step.
	Location string
}

// checksumOf is the checksum a download is verified against: the
// program's, else the one Options.Checksums records for its URL, else ""
// (the content is whatever the server sends).
func (c *compiler) checksumOf(op *HTTPOp) string {
	if op.Checksum != "" || c.opt.Checksums == nil {
		return op.Checksum
	}
	if sum, ok := c.opt.Checksums(op.URL); ok {
		return sum
	}
	return ""
}

// addDownload records a download among the program's facts.
func (c *compiler) addDownload(n *Node, op *HTTPOp, sum string) {
	c.downloads = append(c.downloads, Download{URL: op.URL, Given: op.Checksum, Checksum: sum, Location: n.Loc.String()})
}

// downloadFacts are the graph's downloads, sorted by URL and location,
// one per URL and checksum.
func (c *compiler) downloadFacts() []Download {
	out := slices.Clone(c.downloads)
	slices.SortFunc(out, func(a, b Download) int {
		return strings.Compare(a.URL+"\x00"+a.Given+"\x00"+a.Location, b.URL+"\x00"+b.Given+"\x00"+b.Location)
	})
	return slices.CompactFunc(out, func(a, b Download) bool { return a.URL == b.URL && a.Given == b.Given })
}
