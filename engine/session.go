package engine

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/tonistiigi/fsutil"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// attachables are what the build session serves the daemon: registry
// credentials from the Docker config, the secrets' values and the SSH
// agent sockets the graph forwards.
func (e *Engine) attachables(secrets map[string][]byte, ssh []string) ([]session.Attachable, error) {
	dockerConfig, _, err := e.dockerConfig()
	if err != nil {
		return nil, err
	}
	out := []session.Attachable{
		authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
		}),
		secretsprovider.FromMap(secrets),
	}
	if len(ssh) > 0 {
		confs := make([]sshprovider.AgentConfig, len(ssh))
		for i, id := range ssh {
			confs[i] = sshprovider.AgentConfig{ID: id}
		}
		sp, err := sshprovider.NewSSHAgentProvider(confs)
		if err != nil {
			return nil, fmt.Errorf("forwarding the SSH agent: %w", err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// readSecrets reads each secret's value from its env var, file or literal.
func readSecrets(srcs []lllb.SecretSource) (map[string][]byte, error) {
	values := make(map[string][]byte, len(srcs))
	for _, s := range srcs {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		switch {
		case s.Env != "":
			v, ok := os.LookupEnv(s.Env)
			if !ok {
				return nil, fmt.Errorf("secret %q: environment variable %s is not set", name, s.Env)
			}
			values[s.ID] = []byte(v)
		case s.File != "":
			v, err := os.ReadFile(s.File)
			if err != nil {
				return nil, fmt.Errorf("secret %q: %w", name, err)
			}
			values[s.ID] = v
		default:
			values[s.ID] = s.Value
		}
	}
	return values, nil
}

// localMounts opens the host directories the graph reads, filtered by their
// include and exclude patterns.
func localMounts(locals []lllb.LocalDir) (map[string]fsutil.FS, error) {
	mounts := make(map[string]fsutil.FS, len(locals))
	for _, l := range locals {
		fs, err := fsutil.NewFS(l.Path)
		if err != nil {
			return nil, fmt.Errorf("host directory %s: %w", l.Path, err)
		}
		if len(l.Include) > 0 || len(l.Exclude) > 0 {
			fs, err = fsutil.NewFilterFS(fs, &fsutil.FilterOpt{IncludePatterns: l.Include, ExcludePatterns: l.Exclude})
			if err != nil {
				return nil, fmt.Errorf("host directory %s: %w", l.Path, err)
			}
		}
		mounts[l.Name] = fs
	}
	return mounts, nil
}
