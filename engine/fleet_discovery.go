package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// FleetDiscovery turns one fleet address of a scheme registered with
// [RegisterFleetDiscovery] into the addresses of the engines it stands for
// (unix://, tcp://, kube-pod://…), in a stable order. log, when not nil,
// is where Connect logs (for pods left out, say).
type FleetDiscovery func(ctx context.Context, addr string, log io.Writer) ([]string, error)

var (
	discoveryMu sync.RWMutex
	discoveries = map[string]FleetDiscovery{}
)

// RegisterFleetDiscovery makes fleet addresses of the given scheme
// ("kube" for kube://…) stand for the engines fn finds when Connect dials
// the fleet ([WithFleet], LADING_FLEET). Packages that discover engines
// register from their init, as package
// github.com/ladingbuild/lading/engine/kubefleet does for kube://, so that
// a program links the discovery's dependencies only when it imports it.
// A second registration of a scheme replaces the first.
func RegisterFleetDiscovery(scheme string, fn FleetDiscovery) {
	discoveryMu.Lock()
	defer discoveryMu.Unlock()
	discoveries[scheme] = fn
}

// kubeScheme is the scheme of package kubefleet's addresses, named in the
// error for a program that does not import it.
const kubeScheme = "kube"

// errKubeInAddress says where a kube:// address belongs.
var errKubeInAddress = errors.New("a kube:// address names several engines: give it to engine.WithFleet or LADING_FLEET " +
	"(and import github.com/ladingbuild/lading/engine/kubefleet), not to engine.WithAddress or BUILDKIT_HOST")

// discover replaces each address of a registered scheme with the
// addresses its discovery finds; other addresses stay as they are.
func discover(ctx context.Context, addrs []string, log io.Writer) ([]string, error) {
	var out []string
	for _, a := range addrs {
		scheme, _, ok := strings.Cut(a, "://")
		discoveryMu.RLock()
		fn := discoveries[scheme]
		discoveryMu.RUnlock()
		switch {
		case ok && fn != nil:
			found, err := fn(ctx, a, log)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		case ok && scheme == kubeScheme:
			return nil, fmt.Errorf("fleet address %s: kube:// discovery is in package github.com/ladingbuild/lading/engine/kubefleet: "+
				"import it (import _ \"github.com/ladingbuild/lading/engine/kubefleet\") in the program that connects", quote(a))
		default:
			out = append(out, a)
		}
	}
	return out, nil
}
