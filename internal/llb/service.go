package llb

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/moby/buildkit/solver/pb"
)

// ServiceEnvHost is the env var that tells a service the loopback address
// it must listen on; steps reach it there under its alias.
const ServiceEnvHost = "LADING_SERVICE_HOST"

// Service is a container value run as a long-lived process next to the
// steps bound to it.
type Service struct {
	Container *Container // what runs: its filesystem and image config
	Ports     []int      // TCP ports it listens on; healthy once all accept
	Check     []string   // health check command run in the service; healthy once it exits 0
	Env       []EnvVar   // set for the service's process only
	Timeout   time.Duration
	Loc       Location
}

// ServiceBinding makes a service reachable from a step under Alias.
type ServiceBinding struct {
	Alias   string
	Service *Service
}

// ServiceRun is what the engine needs to run one bound service: the
// compiled container, the process and how to tell it is healthy.
type ServiceRun struct {
	Alias    string
	Addr     string // the loopback address it listens on (127.x.y.z)
	ID       string // the service's identity
	Location string // Go file:line of AsService
	Args     []string
	Env      []string
	Workdir  string
	User     string
	Ports    []int
	Check    []string
	Timeout  time.Duration
	Program  *Program // the service's container
	// Steps are the vertex digests of the steps bound to it, sorted.
	Steps []string
	// Inputs are, for each of Steps, the vertex digests of the ops whose
	// outputs it reads: the engine builds them while the service starts.
	Inputs map[string][]string
}

// serviceID is the identity of a service: its container's root identity
// and everything that changes what runs.
func (c *compiler) serviceID(s *Service) string {
	if id, ok := c.svcIDs[s]; ok {
		return id
	}
	h := idHasher{}
	if s.Container != nil && s.Container.Root != nil {
		sub := newCompiler(c.ctx, c.opt)
		sub.walk(s.Container.Root)
		h.str(sub.id(s.Container.Root))
	}
	if m := s.Container; m != nil {
		h.num(len(m.Env))
		for _, e := range m.Env {
			h.str(e.Name)
			h.str(e.Value)
		}
		h.str(m.Workdir)
		h.str(m.User)
		if m.Config != nil {
			h.strs(m.Config.Entrypoint)
			h.strs(m.Config.Cmd)
		}
	}
	h.num(len(s.Ports))
	for _, p := range s.Ports {
		h.num(p)
	}
	h.strs(s.Check)
	h.num(len(s.Env))
	for _, e := range s.Env {
		h.str(e.Name)
		h.str(e.Value)
	}
	sum := sha256.Sum256(h.b)
	id := fmt.Sprintf("service-%x", sum[:8])
	if c.svcIDs == nil {
		c.svcIDs = map[*Service]string{}
	}
	c.svcIDs[s] = id
	return id
}

// serviceAddr is the loopback address of a bound service in this run: a
// hash of the run id, the alias and the service's identity, so two runs
// (two pipelines on one engine host) never share one. BuildKit leaves
// the address out of the step's cache key.
func serviceAddr(runID, alias, id string) string {
	sum := sha256.Sum256([]byte(runID + "\x00" + alias + "\x00" + id))
	// 127.1.0.0 – 127.254.255.255: clear of 127.0.0.x, where host
	// services usually listen.
	return "127." + strconv.Itoa(1+int(sum[0])%254) + "." + strconv.Itoa(int(sum[1])) + "." + strconv.Itoa(int(sum[2]))
}

// extraHosts returns the hosts-file entries for op's bindings and records
// each service for the engine; the step's digest is added once known
// (boundStep).
func (c *compiler) extraHosts(op *ExecOp) ([]*pb.HostIP, error) {
	var hosts []*pb.HostIP
	for _, b := range op.Services {
		id := c.serviceID(b.Service)
		addr := serviceAddr(c.opt.RunID, b.Alias, id)
		// BuildKit keys an exec step on its hosts' names, not their
		// addresses: the second name puts the service's identity in
		// the step's cache key.
		hosts = append(hosts, &pb.HostIP{Host: b.Alias, IP: addr}, &pb.HostIP{Host: id + ".lading.invalid", IP: addr})
		if slices.ContainsFunc(c.services, func(r *ServiceRun) bool { return r.Addr == addr }) {
			continue
		}
		run, err := c.serviceRun(b, id, addr)
		if err != nil {
			return nil, err
		}
		c.services = append(c.services, run)
	}
	return hosts, nil
}

// serviceRun compiles a bound service's container.
func (c *compiler) serviceRun(b ServiceBinding, id, addr string) (*ServiceRun, error) {
	s := b.Service
	opt := c.opt
	opt.RerunFinal = false
	p, err := Compile(c.ctx, s.Container, opt)
	if err != nil {
		return nil, fmt.Errorf("service %q (%s): %w", b.Alias, s.Loc, err)
	}
	cfg := p.Image.Config
	args := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	if len(args) == 0 {
		return nil, Invalid(s.Loc, "AsService", "container", "the service's container has no entrypoint or default args", "set what it runs with WithEntrypoint or WithDefaultArgs before AsService")
	}
	env := mergeEnv(cfg.Env, s.Env)
	env = SetEnv(env, ServiceEnvHost, addr)
	run := &ServiceRun{
		Alias: b.Alias, Addr: addr, ID: id, Location: s.Loc.String(),
		Args: args, Env: envList(nil, env), Workdir: cfg.WorkingDir, User: cfg.User,
		Ports: slices.Clone(s.Ports), Check: slices.Clone(s.Check), Timeout: s.Timeout,
		Program: p,
	}
	return run, nil
}

// boundStep records that the step with op digest dgst, reading the
// outputs of the ops inputs, is bound to the services at hosts.
func (c *compiler) boundStep(hosts []*pb.HostIP, dgst string, inputs []string) {
	for _, h := range hosts {
		for _, r := range c.services {
			if r.Addr == h.IP && !slices.Contains(r.Steps, dgst) {
				r.Steps = append(r.Steps, dgst)
				if r.Inputs == nil {
					r.Inputs = map[string][]string{}
				}
				for _, d := range inputs {
					if !slices.Contains(r.Inputs[dgst], d) {
						r.Inputs[dgst] = append(r.Inputs[dgst], d)
					}
				}
			}
		}
	}
}

// serviceFacts adds what the services' containers need from the session
// (host directories, secrets, SSH sockets, base images) to prog's facts.
func serviceFacts(prog *Program, runs []*ServiceRun) {
	for _, r := range runs {
		slices.Sort(r.Steps)
		sp := r.Program
		for _, l := range sp.Locals {
			if !slices.ContainsFunc(prog.Locals, func(x LocalDir) bool { return x.Name == l.Name }) {
				prog.Locals = append(prog.Locals, l)
			}
		}
		for _, s := range sp.Secrets {
			if !slices.ContainsFunc(prog.Secrets, func(x SecretSource) bool { return x.ID == s.ID }) {
				prog.Secrets = append(prog.Secrets, s)
			}
		}
		for _, id := range sp.SSH {
			if !slices.Contains(prog.SSH, id) {
				prog.SSH = append(prog.SSH, id)
			}
		}
		for _, ref := range sp.Bases {
			if !slices.Contains(prog.Bases, ref) {
				prog.Bases = append(prog.Bases, ref)
			}
		}
		prog.UsesProxy = prog.UsesProxy || sp.UsesProxy
		for _, e := range sp.Entitlements {
			if !slices.Contains(prog.Entitlements, e) {
				prog.Entitlements = append(prog.Entitlements, e)
			}
		}
	}
	prog.Services = runs
}
