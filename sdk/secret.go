package sdk

import (
	"fmt"
	"regexp"

	"github.com/ladingbuild/lading/internal/llb"
)

// Secret is a sensitive value — a token, a key, a password — made
// available to exec steps with WithMountedSecret or WithSecretEnv. Only its
// name is written into the build graph; the engine reads the value when the
// build runs and scrubs it from progress output and errors.
type Secret struct {
	s   *llb.Secret
	err error
}

var secretName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// maxSecretName bounds a secret's name: it is an id in the build graph
// and in the engine's session.
const maxSecretName = 255

func newSecret(loc llb.Location, op, name string, s *llb.Secret) *Secret {
	if len(name) > maxSecretName {
		return &Secret{s: s, err: llb.Invalid(loc, op, "name", llb.Quote(name)+" is too long for a secret name", fmt.Sprintf("use at most %d bytes, e.g. \"npm-token\"", maxSecretName))}
	}
	if !secretName.MatchString(name) {
		return &Secret{s: s, err: llb.Invalid(loc, op, "name", llb.Quote(name)+" is not a valid secret name", "use letters, digits, '_', '.' and '-', e.g. \"npm-token\"")}
	}
	return &Secret{s: s}
}

// SecretFromEnv reads the secret from the host environment variable env
// when the build runs. The secret's name is env.
func SecretFromEnv(env string) *Secret {
	return newSecret(caller(), "SecretFromEnv", env, &llb.Secret{Name: env, Env: env})
}

// SecretFromFile reads the secret from a host file when the build runs.
func SecretFromFile(name, path string) *Secret {
	loc := caller()
	if path == "" {
		return &Secret{s: &llb.Secret{Name: name}, err: llb.Invalid(loc, "SecretFromFile", "path", "the path is empty", "name the file holding the secret")}
	}
	return newSecret(loc, "SecretFromFile", name, &llb.Secret{Name: name, File: path})
}

// SecretFromValue uses value as the secret.
func SecretFromValue(name, value string) *Secret {
	return newSecret(caller(), "SecretFromValue", name, &llb.Secret{Name: name, Value: []byte(value)})
}

// Name is the secret's name, as written in the build graph.
func (s *Secret) Name() string {
	if s == nil || s.s == nil {
		return ""
	}
	return s.s.Name
}
