package engine

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
)

// dockerConfig loads the Docker config that builds take registry
// credentials from: the directory given with [WithDockerConfig], else
// $DOCKER_CONFIG, else ~/.docker. where says what was looked at, for
// error messages: the config.json (and how it was chosen, and whether it
// exists) and the credential store it names. A config.json that exists
// but cannot be read is an error naming it.
func (e *Engine) dockerConfig() (cfg *configfile.ConfigFile, where []string, err error) {
	dir, how := e.s.dockerConfig, "engine.WithDockerConfig"
	if dir == "" {
		dir, how = os.Getenv(config.EnvOverrideConfigDir), config.EnvOverrideConfigDir
	}
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir, how = filepath.Join(home, ".docker"), "the default"
	}
	file := filepath.Join(dir, config.ConfigFileName)
	cfg, err = config.Load(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the Docker config %s (%s): %w; fix or remove it, or point engine.WithDockerConfig at another directory",
			clip(file, maxQuoted), how, bounded(err))
	}
	state := ""
	if _, err := os.Stat(file); os.IsNotExist(err) {
		state = ", which does not exist"
	}
	if e.s.dockerConfig == "" && !cfg.ContainsAuth() {
		// As the Docker CLI does for its default config.
		cfg.CredentialsStore = credentials.DetectDefaultStore(cfg.CredentialsStore)
	}
	where = []string{fmt.Sprintf("%s (%s%s)", clip(file, maxQuoted), how, state)}
	if cfg.CredentialsStore != "" {
		where = append(where, "the credential store docker-credential-"+clip(cfg.CredentialsStore, maxQuoted))
	}
	return cfg, where, nil
}

// credentialsFor reports whether cfg holds credentials for the registry
// host, the user name they are for, and where they were looked for
// beyond the config file (the host's own credential helper).
func credentialsFor(cfg *configfile.ConfigFile, host string) (found bool, user string, helper string) {
	if h, ok := cfg.CredentialHelpers[host]; ok {
		helper = "the credential helper docker-credential-" + clip(h, maxQuoted) + " for " + clip(host, maxQuoted)
	}
	ac, err := cfg.GetAuthConfig(host)
	if err != nil {
		return false, "", helper
	}
	found = ac.Username != "" || ac.Password != "" || ac.Auth != "" || ac.IdentityToken != "" || ac.RegistryToken != ""
	return found, ac.Username, helper
}
