package lock

import "fmt"

// Change is one entry that differs between two locks.
type Change struct {
	// Kind is "image", "git" or "http".
	Kind string
	// Source names the entry: an image ref and platform, "URL#ref" or a URL.
	Source string
	// From and To are the old and new digest, commit or checksum; From is
	// empty for an added entry and To for a removed one.
	From, To string
}

// String reads like "image docker.io/library/debian:bookworm (linux/amd64):
// sha256:aaa… -> sha256:bbb…".
func (c Change) String() string {
	switch {
	case c.From == "":
		return fmt.Sprintf("%s %s: added %s", c.Kind, c.Source, c.To)
	case c.To == "":
		return fmt.Sprintf("%s %s: removed (was %s)", c.Kind, c.Source, c.From)
	}
	return fmt.Sprintf("%s %s: moved %s -> %s", c.Kind, c.Source, c.From, c.To)
}

// Diff lists what changed from old to new, sorted by kind and source. A
// nil lock counts as empty.
func Diff(old, new *File) []Change {
	if old == nil {
		old = New()
	}
	if new == nil {
		new = New()
	}
	var out []Change
	out = appendDiff(out, "image", entries(old.Images(), imageEntry), entries(new.Images(), imageEntry))
	out = appendDiff(out, "git", entries(old.GitRefs(), gitEntry), entries(new.GitRefs(), gitEntry))
	out = appendDiff(out, "http", entries(old.Downloads(), httpEntry), entries(new.Downloads(), httpEntry))
	return out
}

type entry struct{ source, value string }

func imageEntry(im Image) entry { return entry{im.Ref + " (" + im.Platform + ")", im.Digest} }
func gitEntry(g Git) entry      { return entry{gitKey(g.URL, g.Ref), g.Commit} }
func httpEntry(h HTTP) entry    { return entry{h.URL, h.Checksum} }

// entries converts sorted entries, keeping their order.
func entries[T any](in []T, f func(T) entry) []entry {
	out := make([]entry, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// appendDiff merges two sorted lists of entries.
func appendDiff(out []Change, kind string, old, new []entry) []Change {
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || (i < len(old) && old[i].source < new[j].source):
			out = append(out, Change{Kind: kind, Source: old[i].source, From: old[i].value})
			i++
		case i == len(old) || new[j].source < old[i].source:
			out = append(out, Change{Kind: kind, Source: new[j].source, To: new[j].value})
			j++
		default:
			if old[i].value != new[j].value {
				out = append(out, Change{Kind: kind, Source: old[i].source, From: old[i].value, To: new[j].value})
			}
			i++
			j++
		}
	}
	return out
}
