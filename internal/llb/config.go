package llb

import (
	"maps"
	"slices"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// historyComment marks the history entries of layers lading added.
const historyComment = "lading"

// imageConfig merges the program's settings over the base image's config
// and writes the image's history itself: the base image's own entries, then
// one per layer the program adds, named after its step. Nothing in it
// depends on the engine (which image it pulled first, what it had cached)
// or on Go call sites, so the same program and epoch give the same image
// digest on any engine.
func (c *compiler) imageConfig(m *Container) (ocispecs.Image, error) {
	var img ocispecs.Image
	var base *baseImage
	if m.Image != nil {
		b, err := c.resolve(m.Image, Location{})
		if err != nil {
			return img, err
		}
		base = b
		img = b.config
		img.Config.Env = slices.Clone(img.Config.Env)
	}
	img.RootFS = ocispecs.RootFS{}
	img.History = c.history(m.Root, base)
	img.Created = c.opt.Epoch
	img.Platform = c.platform(m.Platform)
	cfg := &img.Config
	set := m.Settings()
	for _, e := range m.Env {
		cfg.Env = setEnvList(cfg.Env, e.Name, e.Value)
	}
	if m.Workdir != "" {
		cfg.WorkingDir = m.Workdir
	}
	if m.User != "" {
		cfg.User = m.User
	}
	if set.SetEntry {
		cfg.Entrypoint = set.Entrypoint
		if !set.SetCmd {
			cfg.Cmd = nil
		}
	}
	if set.SetCmd {
		cfg.Cmd = set.Cmd
	}
	if len(set.Labels) > 0 {
		cfg.Labels = merged(cfg.Labels, set.Labels)
	}
	if len(set.Ports) > 0 {
		ports := maps.Clone(cfg.ExposedPorts)
		if ports == nil {
			ports = make(map[string]struct{}, len(set.Ports))
		}
		for _, p := range set.Ports {
			ports[p] = struct{}{}
		}
		cfg.ExposedPorts = ports
	}
	if set.StopSignal != "" {
		cfg.StopSignal = set.StopSignal
	}
	return img, nil
}

// history lists one entry per layer of the image whose root is root: the
// base image's entries (exactly as many non-empty ones as it has layers),
// then one for each step on root's chain of parents, oldest first.
func (c *compiler) history(root *Node, base *baseImage) []ocispecs.History {
	chain := make([]*Node, 0, 16)
	for n := root; n != nil; n = parent(n) {
		chain = append(chain, n)
	}
	slices.Reverse(chain)
	out := make([]ocispecs.History, 0, len(chain)+16)
	for _, n := range chain {
		switch n.Op.(type) {
		case *ImageOp:
			if base != nil {
				out = append(out, baseHistory(base.config)...)
			}
		case ScratchOp:
		default:
			name := ""
			if v := c.vertex(n); v != nil {
				name = v.name
			}
			if name == "" {
				name = stepName(n)
			}
			out = append(out, ocispecs.History{Created: c.opt.Epoch, CreatedBy: name, Comment: historyComment})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// baseHistory is the base image's history with exactly one non-empty entry
// per layer: entries an image lacks are added (dated like the image),
// surplus ones are marked empty.
func baseHistory(img ocispecs.Image) []ocispecs.History {
	layers := len(img.RootFS.DiffIDs)
	out := make([]ocispecs.History, 0, max(len(img.History), layers))
	seen := 0
	for _, h := range img.History {
		if !h.EmptyLayer {
			if seen == layers {
				h.EmptyLayer = true
			} else {
				seen++
			}
		}
		out = append(out, h)
	}
	for ; seen < layers; seen++ {
		out = append(out, ocispecs.History{Created: img.Created, CreatedBy: "base image layer", Comment: historyComment})
	}
	return out
}

func setEnvList(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}

// merged returns a new map holding a's entries, then b's over them; a may
// be shared and is never written.
func merged[K comparable, V any](a, b map[K]V) map[K]V {
	out := make(map[K]V, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
