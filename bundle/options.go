package bundle

import (
	"context"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option tunes how [Create], [Add] and [Push] reach registries.
type Option func(*options)

type options struct {
	insecure bool
	keychain authn.Keychain
	jobs     int
}

// Insecure reaches registries over plain HTTP. Loopback and private
// addresses (127.0.0.1:5000, localhost:5000, 10.0.0.5:5000) are reached
// that way without it.
func Insecure() Option { return func(o *options) { o.insecure = true } }

// WithKeychain reads registry credentials from k instead of the Docker
// config ($DOCKER_CONFIG or ~/.docker, with its credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(o *options) { o.keychain = k } }

// WithJobs sets how many blobs move at once (default 4).
func WithJobs(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.jobs = n
		}
	}
}

func makeOptions(opts []Option) *options {
	o := &options{keychain: authn.DefaultKeychain, jobs: 4}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

func (o *options) nameOptions() []name.Option {
	if o.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (o *options) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(o.keychain), remote.WithJobs(o.jobs)}
}
