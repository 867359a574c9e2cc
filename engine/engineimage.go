package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// engineImageEnv names the environment variable that sets the engine
// image, as [WithEngineImage] does.
const engineImageEnv = "LADING_ENGINE_IMAGE"

// WithEngineImage sets the image the local engine's buildkitd and buildctl
// are taken from on its first start, when no binary is set with
// [WithBuildkitd] and none is cached: ref names the official image or a
// copy of it ("registry.example.com/tools/buildkit:v0.34.2"), and may pin
// a digest ("moby/buildkit@sha256:…" or "moby/buildkit:v0.34.2@sha256:…");
// without a tag or digest, the tag is the BuildKit version lading needs
// (never "latest").
// The default is the LADING_ENGINE_IMAGE environment variable, else
// moby/buildkit at the BuildKit version lading is built with.
//
// The image is pulled through the local engine's registry settings
// ([WithRegistryMirror], [WithInsecureRegistry]) with the credentials of
// the Docker config ([WithDockerConfig]). With an image set here or in
// the environment, buildkitd on PATH is not used, and cached binaries from
// another image are replaced. A pinned digest is strict: when no registry
// serves it, or its buildkitd is not the version lading needs, starting
// fails with an error saying so, instead of building buildkitd from its Go
// module as an unpinned start does. For Connect and StartLocal.
func WithEngineImage(ref string) Option {
	return func(s *settings) {
		s.only("WithEngineImage", forLocal, "it selects where the local engine's binaries come from")
		if _, err := parseEngineImage(ref, "engine.WithEngineImage"); err != nil && s.err == nil {
			s.err = err
		}
		s.engineImage = ref
	}
}

// engineImage is the image the local engine's binaries come from.
type engineImage struct {
	ref    name.Reference // parsed; a name.Digest when pinned
	pinned string         // the pinned digest ("sha256:…"), "" for a tag
	how    string         // where it was set, for messages
	// explicit is set when the user chose the image (option or
	// environment) rather than taking the default.
	explicit bool
}

// String is the reference with docker.io spelled as people write it:
// "docker.io/moby/buildkit:v0.34.2", "docker.io/moby/buildkit@sha256:…".
func (i engineImage) String() string {
	repo := displayRepo(i.ref.Context())
	if i.pinned != "" {
		return repo + "@" + i.pinned
	}
	return repo + ":" + i.ref.Identifier()
}

// displayRepo is a repository's name with docker.io for Docker Hub.
func displayRepo(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}

// defaultEngineImage is the official image of the BuildKit version lading
// is built with.
func defaultEngineImage() string { return "moby/buildkit:" + buildkitVersion() }

// engineImageFor resolves the engine image of s: the option, else the
// environment, else the default.
func engineImageFor(s *settings) (engineImage, error) {
	ref, how, explicit := s.engineImage, "engine.WithEngineImage", true
	if ref == "" {
		ref, how = os.Getenv(engineImageEnv), engineImageEnv
	}
	if ref == "" {
		ref, how, explicit = defaultEngineImage(), "the default", false
	}
	img, err := parseEngineImage(ref, how)
	img.explicit = explicit
	return img, err
}

// parseEngineImage parses ref, set by how; the error says what a
// reference looks like.
func parseEngineImage(ref, how string) (engineImage, error) {
	fail := func(err error) (engineImage, error) {
		return engineImage{}, fmt.Errorf("%s: engine image %s: %w; give a reference such as %s or moby/buildkit@sha256:<64 hex digits>",
			how, quote(ref), bounded(err), defaultEngineImage())
	}
	if strings.TrimSpace(ref) == "" {
		return fail(fmt.Errorf("empty reference"))
	}
	r, err := name.ParseReference(ref, name.WithDefaultTag(buildkitVersion()))
	if err != nil {
		repo, _, _ := strings.Cut(ref, "@")
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i] // the tag may hold capitals
		}
		if repo != strings.ToLower(repo) {
			err = fmt.Errorf("%w (a repository name is lowercase: %s)", err, strings.ToLower(repo))
		}
		return fail(err)
	}
	img := engineImage{ref: r, how: how}
	if d, ok := r.(name.Digest); ok {
		img.pinned = d.DigestStr()
	}
	return img, nil
}

// in returns the image's reference in another repository (a mirror),
// with the same tag or digest.
func (i engineImage) in(repo name.Repository) name.Reference {
	if i.pinned != "" {
		return repo.Digest(i.pinned)
	}
	return repo.Tag(i.ref.Identifier())
}
