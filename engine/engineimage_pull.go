package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/internal/untar"
)

// The files the local engine takes from the image, where BuildKit's
// Dockerfile puts them (stage binaries-linux, copied to /usr/bin/).
const (
	imageBuildkitd = "usr/bin/buildkitd"
	imageBuildctl  = "usr/bin/buildctl"
)

// resolveTimeout bounds how long one registry may take to answer for the
// image's manifest; the layers then download without a limit of their own.
const resolveTimeout = 20 * time.Second

// maxBinary bounds a binary taken from an image (buildkitd is about 60 MB).
const maxBinary = 1 << 30

// registryHost is one place the engine image may be pulled from.
type registryHost struct {
	repo  name.Repository
	label string // "127.0.0.1:5000 (mirror of docker.io)"
}

// engineImageHosts lists where to pull img: the local engine's mirrors of
// its registry, in order, then the registry itself — the order buildkitd
// pulls in.
func engineImageHosts(s *settings, img engineImage) []registryHost {
	origin := img.ref.Context()
	reg := origin.RegistryStr()
	display := reg
	if reg == name.DefaultRegistry {
		display = "docker.io"
	}
	var hosts []registryHost
	mirrors := slices.Concat(s.mirrors[display], s.mirrors[reg])
	if display == reg {
		mirrors = s.mirrors[reg]
	}
	for _, m := range mirrors {
		m = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(m, "https://"), "http://"), "/")
		host, _, _ := strings.Cut(m, "/")
		var opts []name.Option
		if slices.Contains(s.insecure, host) {
			opts = append(opts, name.Insecure)
		}
		repo, err := name.NewRepository(m+"/"+origin.RepositoryStr(), opts...)
		if err != nil {
			continue // not a registry host; buildkitd would not use it either
		}
		hosts = append(hosts, registryHost{repo: repo, label: m + " (mirror of " + display + ")"})
	}
	self := origin
	if slices.Contains(s.insecure, reg) {
		if r, err := name.NewRepository(origin.Name(), name.Insecure); err == nil {
			self = r
		}
	}
	label := display
	if len(mirrors) == 0 {
		label += " (no mirror set)"
	}
	return append(hosts, registryHost{repo: self, label: label})
}

// engineImageError says why no registry gave usable binaries: one entry
// per registry tried.
type engineImageError struct {
	img      engineImage
	tried    []string
	unusable bool // a registry served the image, unusable (errImageUnusable)
}

// Unwrap lets errors.Is find errImageUnusable when a registry served the
// image but it was not usable.
func (e *engineImageError) Unwrap() error {
	if e.unusable {
		return errImageUnusable
	}
	return nil
}

// errImageUnusable marks a registry's answer that was an image, but not
// one lading can take buildkitd from (another platform, no binaries, the
// wrong version).
var errImageUnusable = errors.New("the image is not usable")

func (e *engineImageError) Error() string {
	return fmt.Sprintf("engine image %s (%s): %s", e.img, e.img.how, strings.Join(e.tried, "; "))
}

// pullEngineBinaries takes buildkitd and buildctl from img, trying each of
// its registries in turn, checks they report the BuildKit version lading
// needs, and installs them into p's bin directory with their record.
func pullEngineBinaries(ctx context.Context, s *settings, img engineImage, p localPaths) (*BinarySource, error) {
	kc, err := engineKeychain(s)
	if err != nil {
		return nil, &engineImageError{img: img, tried: []string{err.Error()}}
	}
	var tried []string
	unusable := false
	for _, h := range engineImageHosts(s, img) {
		src, err := pullFrom(ctx, h, img, kc, p)
		if err == nil {
			return src, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		unusable = unusable || errors.Is(err, errImageUnusable)
		tried = append(tried, h.label+": "+bounded(err).Error())
	}
	return nil, &engineImageError{img: img, tried: tried, unusable: unusable}
}

// pullFrom pulls img from one registry.
func pullFrom(ctx context.Context, h registryHost, img engineImage, kc authn.Keychain, p localPaths) (*BinarySource, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The descriptor keeps the context for the layers it fetches later, so
	// the manifest's time limit cancels it rather than bounding it.
	timer := time.AfterFunc(resolveTimeout, cancel)
	desc, err := remote.Get(img.in(h.repo), remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("lading"))
	if !timer.Stop() && err != nil {
		return nil, fmt.Errorf("no answer within %s: %w", resolveTimeout, err)
	}
	if err != nil {
		return nil, err
	}
	im, manifest, platform, err := platformImage(desc)
	if err != nil {
		return nil, unusableImage(err)
	}

	binDir := filepath.Dir(p.binary)
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(binDir, ".pull-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	want := map[string]string{
		imageBuildkitd: filepath.Join(tmp, "buildkitd"),
		imageBuildctl:  filepath.Join(tmp, "buildctl"),
	}
	if err := extractFiles(ctx, im, want); err != nil {
		return nil, fmt.Errorf("%s (%s): %w", manifest, platform, err)
	}
	version := buildkitVersion()
	for _, bin := range []string{"buildkitd", "buildctl"} {
		file := filepath.Join(tmp, bin)
		if err := os.Chmod(file, 0o755); err != nil {
			return nil, err
		}
		got, err := binaryVersion(ctx, file)
		if err != nil {
			return nil, unusableImage(fmt.Errorf("its /%s: %w", path.Join("usr/bin", bin), err))
		}
		if got != version {
			return nil, unusableImage(fmt.Errorf("its /usr/bin/%s reports version %s, and lading needs %s (the BuildKit it is built with)", bin, got, version))
		}
	}
	src := &BinarySource{
		From: BinaryFromImage, Binary: p.binary, Version: version,
		Image: img.String(), Digest: desc.Digest.String(), Manifest: manifest.String(), Platform: platform,
		Registry: h.repo.RegistryStr(), Time: time.Now().UTC().Truncate(time.Second),
	}
	if src.Registry == name.DefaultRegistry {
		src.Registry = "docker.io"
	}
	// buildctl first: the record and buildkitd, which a later start looks
	// for, come last.
	if err := os.Rename(filepath.Join(tmp, "buildctl"), filepath.Join(binDir, "buildctl")); err != nil {
		return nil, err
	}
	if err := os.Rename(filepath.Join(tmp, "buildkitd"), p.binary); err != nil {
		return nil, err
	}
	if err := writeSource(p.binary, src); err != nil {
		return nil, err
	}
	return src, nil
}

// platformImage selects the image for this host's platform: from an index,
// the best match of its manifests; a single image must match.
func platformImage(desc *remote.Descriptor) (v1.Image, v1.Hash, string, error) {
	host := platforms.Normalize(platforms.DefaultSpec())
	want := platforms.Only(host)
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, v1.Hash{}, "", err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, v1.Hash{}, "", err
		}
		var best *v1.Descriptor
		var offered []string
		for i := range im.Manifests {
			m := &im.Manifests[i]
			if m.Platform == nil || !m.MediaType.IsImage() {
				continue
			}
			p := ociPlatform(m.Platform)
			offered = append(offered, platforms.Format(p))
			if want.Match(p) && (best == nil || want.Less(p, ociPlatform(best.Platform))) {
				best = m
			}
		}
		if best == nil {
			return nil, v1.Hash{}, "", fmt.Errorf("no image for %s in the index (it has %s)", platforms.Format(host), strings.Join(offered, ", "))
		}
		img, err := idx.Image(best.Digest)
		if err != nil {
			return nil, v1.Hash{}, "", err
		}
		return img, best.Digest, platforms.Format(ociPlatform(best.Platform)), nil
	}
	if !desc.MediaType.IsImage() {
		return nil, v1.Hash{}, "", fmt.Errorf("%s is a %s, not an image", desc.Digest, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, v1.Hash{}, "", err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, v1.Hash{}, "", err
	}
	p := platforms.Normalize(ocispecs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})
	if !want.Match(p) {
		return nil, v1.Hash{}, "", fmt.Errorf("the image is for %s, and this host is %s", platforms.Format(p), platforms.Format(host))
	}
	return img, desc.Digest, platforms.Format(p), nil
}

func ociPlatform(p *v1.Platform) ocispecs.Platform {
	return platforms.Normalize(ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion})
}

// extractFiles writes the image files named by want's keys to its values:
// the top layers first, each file from the highest layer that has it, and
// no lower layer once a layer deletes it (an OCI whiteout). Layers below
// the last one needed are not downloaded. A file the image does not have
// is an error naming it.
func extractFiles(ctx context.Context, img v1.Image, want map[string]string) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	const (
		open = iota
		found
		deleted
	)
	state := map[string]int{}
	remaining := len(want)
	for i := len(layers) - 1; i >= 0 && remaining > 0; i-- {
		var hidden []string
		inLayer := map[string]bool{}
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
		err = untar.Pick(ctx, rc, maxBinary, func(entry string) string {
			if dest, ok := want[entry]; ok && (state[entry] == open || inLayer[entry]) {
				state[entry], inLayer[entry] = found, true
				return dest
			}
			hidden = append(hidden, whitedOut(entry, want)...)
			return ""
		})
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
		for _, f := range hidden {
			if state[f] == open {
				state[f] = deleted
			}
		}
		remaining = 0
		for f := range want {
			if state[f] == open {
				remaining++
			}
		}
	}
	var missing []string
	for f := range want {
		if state[f] != found {
			missing = append(missing, "/"+f)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return unusableImage(fmt.Errorf("the image has no %s (BuildKit's images keep buildkitd and buildctl in /usr/bin)", strings.Join(missing, " or ")))
	}
	return nil
}

// whitedOut returns the wanted files that the layer entry deletes from the
// layers below it: ".wh.NAME" deletes NAME, ".wh..wh..opq" everything in
// its directory.
func whitedOut(entry string, want map[string]string) []string {
	dir, base := path.Split(entry)
	if !strings.HasPrefix(base, ".wh.") {
		return nil
	}
	var out []string
	for f := range want {
		if base == ".wh..wh..opq" && strings.HasPrefix(f, dir) {
			out = append(out, f)
			continue
		}
		gone := dir + strings.TrimPrefix(base, ".wh.")
		if f == gone || strings.HasPrefix(f, gone+"/") {
			out = append(out, f)
		}
	}
	return out
}

// unusableImage marks err as a registry's answer that is not a usable
// image, keeping its message.
func unusableImage(err error) error { return unusable{err} }

// unusable is an error of an image that cannot be used; errors.Is finds
// errImageUnusable in it, and its message is the cause's.
type unusable struct{ err error }

func (u unusable) Error() string   { return u.err.Error() }
func (u unusable) Unwrap() []error { return []error{u.err, errImageUnusable} }

// binaryVersion runs bin --version and returns the version of BuildKit's
// version line ("buildkitd github.com/moby/buildkit v0.34.2 REVISION").
func binaryVersion(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("running it with --version: %w: %s", err, clip(strings.TrimSpace(string(out)), maxQuoted))
	}
	f := strings.Fields(string(out))
	if len(f) < 3 || f[1] != buildkitModule {
		return "", fmt.Errorf("--version printed %s, not BuildKit's version line", quote(strings.TrimSpace(string(out))))
	}
	return f[2], nil
}

// engineKeychain gives registry credentials from the Docker config that
// builds use ([WithDockerConfig], $DOCKER_CONFIG, ~/.docker).
func engineKeychain(s *settings) (authn.Keychain, error) {
	cfg, _, err := (&Engine{s: *s}).dockerConfig()
	if err != nil {
		return nil, err
	}
	return dockerKeychain{cfg}, nil
}

// dockerKeychain resolves credentials from a loaded Docker config.
type dockerKeychain struct{ cfg *configfile.ConfigFile }

// Resolve implements authn.Keychain.
func (k dockerKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	key := r.RegistryStr()
	if key == name.DefaultRegistry {
		key = "https://index.docker.io/v1/"
	}
	ac, err := k.cfg.GetAuthConfig(key)
	if err != nil {
		return nil, err
	}
	if ac.Username == "" && ac.Password == "" && ac.Auth == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
	}), nil
}
