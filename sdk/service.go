package sdk

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/ladingbuild/lading/internal/llb"
)

// Service is a container run as a long-lived process (a database, a
// cache, a fake API) next to the exec steps bound to it with
// [Container.WithServiceBinding]. It is an immutable value, safe for
// concurrent use. Make one with [Container.AsService].
type Service struct {
	s   *llb.Service
	err error
}

// ServiceOption tunes AsService.
type ServiceOption interface{ serviceOption(*llb.Service) }

type serviceOptionFunc func(*llb.Service)

func (f serviceOptionFunc) serviceOption(s *llb.Service) { f(s) }

// ServicePorts lists the TCP ports the service listens on. The service is
// healthy once each accepts connections on the service's address (or on
// all addresses), unless a [HealthCheck] is given.
func ServicePorts(ports ...int) ServiceOption {
	return serviceOptionFunc(func(s *llb.Service) { s.Ports = append(s.Ports, ports...) })
}

// HealthCheck is a command run inside the service's container, again
// until it exits 0, to tell that the service is ready, e.g.
// HealthCheck("redis-cli", "-h", "db", "ping").
func HealthCheck(args ...string) ServiceOption {
	return serviceOptionFunc(func(s *llb.Service) { s.Check = slices.Clone(args) })
}

// ServiceEnv sets an environment variable for the service's process.
func ServiceEnv(name, value string) ServiceOption {
	return serviceOptionFunc(func(s *llb.Service) { s.Env = llb.SetEnv(s.Env, name, value) })
}

// HealthTimeout is how long the service may take to become healthy
// (default 60 s) before the step fails.
func HealthTimeout(d time.Duration) ServiceOption {
	return serviceOptionFunc(func(s *llb.Service) { s.Timeout = d })
}

// AsService runs the container as a service: its entrypoint and default
// args (WithEntrypoint, WithDefaultArgs, or its base image's) with its
// env, workdir and user, on its filesystem. The process finds the
// loopback address it must listen on in LADING_SERVICE_HOST (see
// docs/services.md). The container's mounts are not applied to the
// service.
func (c *Container) AsService(opts ...ServiceOption) *Service {
	loc := caller()
	if c == nil || c.m == nil {
		return &Service{err: llb.Invalid(loc, "AsService", "receiver", "the container is nil", "start from sdk.From or sdk.Scratch")}
	}
	if c.m.Err != nil {
		return &Service{err: c.m.Err}
	}
	s := &llb.Service{Container: c.m.Clone(), Loc: loc}
	for _, opt := range opts {
		if opt == nil {
			return &Service{err: nilOption(loc, "AsService")}
		}
		opt.serviceOption(s)
	}
	for _, p := range s.Ports {
		if p < 1 || p > 65535 {
			return &Service{err: llb.Invalid(loc, "AsService", "ServicePorts", fmt.Sprintf("%d is not a TCP port", p), "ports are 1 to 65535")}
		}
	}
	for _, e := range s.Env {
		if err := checkEnvName(loc, "AsService", e.Name); err != nil {
			return &Service{err: err}
		}
	}
	if err := checkText(loc, "AsService", "HealthCheck", s.Check...); err != nil {
		return &Service{err: err}
	}
	if s.Timeout < 0 {
		return &Service{err: llb.Invalid(loc, "AsService", "HealthTimeout", "the timeout is negative", "pass a positive duration, e.g. 30*time.Second")}
	}
	return &Service{s: s}
}

// aliasRE is a host name label: what a step can resolve.
var aliasRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// WithServiceBinding binds svc to later exec steps: the service starts
// before the first of them runs, each waits until it is healthy and
// reaches it at alias (a host name in the step's hosts file) on the
// service's ports, and the service stops when the last of them ends. A
// bound step is cached like any other, with the service part of its cache
// key (docs/services.md).
func (c *Container) WithServiceBinding(alias string, svc *Service) *Container {
	loc := caller()
	return c.with(loc, "WithServiceBinding", func(m *llb.Container) error {
		if !aliasRE.MatchString(alias) {
			return llb.Invalid(loc, "WithServiceBinding", "alias", llb.Quote(alias)+" is not a host name", `use lower-case letters, digits and "-", e.g. "db"`)
		}
		if svc == nil || (svc.s == nil && svc.err == nil) {
			return llb.Invalid(loc, "WithServiceBinding", "svc", "the service is nil", "pass a service from Container.AsService")
		}
		if svc.err != nil {
			return svc.err
		}
		m.Services = append(slices.DeleteFunc(slices.Clone(m.Services), func(b llb.ServiceBinding) bool { return b.Alias == alias }),
			llb.ServiceBinding{Alias: alias, Service: svc.s})
		return nil
	})
}
