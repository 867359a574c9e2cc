package engine

import (
	"slices"
	"strings"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
)

// sourceIndex finds the Go file:line of the step that pulls a source, from
// the program's step table.
type sourceIndex struct {
	images map[string]string // normalized ref without digest -> location
	// pinnedInCode holds the images a step names with a digest.
	pinnedInCode map[string]bool
	git          []gitSource
	http         []httpSource
}

type gitSource struct{ url, ref, loc string }

type httpSource struct{ url, loc string }

// indexSources indexes the source steps of p (nil gives an empty index).
// Where two steps pull one source the first location in sorted order wins,
// so that errors are stable.
func indexSources(p *lllb.Program) *sourceIndex {
	x := &sourceIndex{images: map[string]string{}, pinnedInCode: map[string]bool{}}
	if p == nil {
		return x
	}
	steps := make([]lllb.Step, 0, len(p.Steps))
	for _, st := range p.Steps {
		steps = append(steps, st)
	}
	slices.SortFunc(steps, func(a, b lllb.Step) int { return strings.Compare(a.Location, b.Location) })
	for _, st := range steps {
		switch {
		case st.Op == "from" && len(st.Args) > 0:
			key := imageName(st.Args[0])
			if _, ok := x.images[key]; !ok && key != "" {
				x.images[key] = st.Location
			}
			if strings.Contains(st.Args[0], "@") {
				x.pinnedInCode[key] = true
			}
		case st.Op == "git" && len(st.Args) > 1:
			x.git = append(x.git, gitSource{url: st.Args[0], ref: st.Args[1], loc: st.Location})
		case st.Op == "http" && len(st.Args) > 0:
			x.http = append(x.http, httpSource{url: st.Args[0], loc: st.Location})
		}
	}
	return x
}

// merge adds o's sources to x; x's locations win.
func (x *sourceIndex) merge(o *sourceIndex) {
	for k, v := range o.images {
		if _, ok := x.images[k]; !ok {
			x.images[k] = v
		}
	}
	for k := range o.pinnedInCode {
		x.pinnedInCode[k] = true
	}
	x.git = append(x.git, o.git...)
	x.http = append(x.http, o.http...)
}

// imageName normalizes an image reference and drops its digest
// ("debian:bookworm@sha256:…" -> "docker.io/library/debian:bookworm"), or
// "" for a bad one.
func imageName(ref string) string {
	name, err := lock.ImageRef(ref)
	if err != nil {
		return ""
	}
	return name
}

// image is the location of the step that pulls ref, or "".
func (x *sourceIndex) image(ref string) string {
	if x == nil {
		return ""
	}
	return x.images[imageName(ref)]
}

// url is the location of the Git or HTTP step whose URL is u, or "".
func (x *sourceIndex) url(u string) string {
	if x == nil {
		return ""
	}
	for _, s := range x.http {
		if s.url == u {
			return s.loc
		}
	}
	for _, s := range x.git {
		if s.url == u || gitRemote(s.url) == gitRemote(u) {
			return s.loc
		}
	}
	return ""
}

// gitRemote is a Git URL without scheme, user and ".git", as BuildKit's
// identifiers name remotes ("https://host/org/repo.git" -> "host/org/repo").
func gitRemote(u string) string {
	if _, rest, ok := strings.Cut(u, "://"); ok {
		u = rest
	}
	if i := strings.Index(u, "@"); i >= 0 && i < strings.Index(u+"/", "/") {
		u = u[i+1:]
	}
	return strings.TrimSuffix(u, ".git")
}
