package sdk

import (
	"github.com/containerd/platforms"

	"github.com/ladingbuild/lading/internal/llb"
)

// Platform is an OS and architecture such as "linux/amd64" or
// "linux/arm64/v8". The empty Platform means the engine's default.
type Platform string

// BuildPlatform is the platform of the engine running the build. A stage
// started ForPlatform(BuildPlatform) runs natively whatever platforms the
// image is built for: cross-compile there (see TargetPlatformEnv) and copy
// the result into each target's image, with no emulation.
const BuildPlatform Platform = "build"

func (p Platform) fromOption(o *fromOpts) { o.platform = p }

// ForPlatform builds the container for p instead of the default platform.
func ForPlatform(p Platform) FromOption { return p }

// maxPlatformLen bounds a platform string before it is parsed.
const maxPlatformLen = 256

func (p Platform) parse(loc llb.Location, op string) (llb.Platform, error) {
	if p == "" {
		return llb.Platform{}, nil
	}
	if p == BuildPlatform {
		return llb.Platform{Build: true}, nil
	}
	if len(p) > maxPlatformLen {
		return llb.Platform{}, llb.Invalid(loc, op, "platform", llb.Quote(string(p))+" is too long for a platform", `write os/arch[/variant], e.g. "linux/arm64"`)
	}
	spec, err := platforms.Parse(string(p))
	if err != nil || spec.OS == "" || spec.Architecture == "" {
		return llb.Platform{}, llb.Invalid(loc, op, "platform", llb.Quote(string(p))+" is not a platform", `write os/arch[/variant], e.g. "linux/arm64"`)
	}
	spec = platforms.Normalize(spec)
	return llb.Platform{OS: spec.OS, Arch: spec.Architecture, Variant: spec.Variant}, nil
}
