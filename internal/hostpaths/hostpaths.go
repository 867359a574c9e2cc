package hostpaths

import (
	"path/filepath"
	"strings"
)

// Kind is a class of path a build context should usually leave out.
type Kind struct {
	// Name is a short, stable key: "credentials", "vcs", "dependencies"
	// or "output".
	Name string
	// What describes the class in words ("a credential file").
	What string
	// Credential reports that the path looks like it holds a secret:
	// sending it is an error for the linter, not a warning.
	Credential bool
}

// The kinds, in the order Match tries them.
var (
	Credentials  = Kind{Name: "credentials", What: "a credential file", Credential: true}
	VCS          = Kind{Name: "vcs", What: "version control metadata"}
	Dependencies = Kind{Name: "dependencies", What: "installed dependencies"}
	Output       = Kind{Name: "output", What: "build output"}
)

// Match reports the kind of an entry named name (its base name, no
// slash), dir saying whether it is a directory.
func Match(name string, dir bool) (Kind, bool) {
	switch {
	case credentialFile(name, dir):
		return Credentials, true
	case dir && (name == ".git" || name == ".hg" || name == ".svn"):
		return VCS, true
	case dir && (name == "node_modules" || name == ".venv" || name == "venv" || name == "__pycache__"):
		return Dependencies, true
	case dir && (name == "dist" || name == "build" || name == "target" || name == "out" || name == "bin" || name == ".next" || name == ".gradle"):
		return Output, true
	}
	return Kind{}, false
}

// credentialFile reports whether an entry looks like credentials: .env
// files, SSH keys, PEM and key files, tool configs that hold tokens.
func credentialFile(name string, dir bool) bool {
	switch name {
	case ".ssh", ".aws", ".docker", ".gnupg":
		return dir
	case ".npmrc", ".pypirc", ".netrc", ".git-credentials", "credentials.json", ".env":
		return !dir
	}
	if dir {
		return false
	}
	if rest, ok := strings.CutPrefix(name, ".env."); ok {
		return rest != "example" && rest != "sample" && rest != "template" && rest != "dist"
	}
	if strings.HasPrefix(name, "id_") && !strings.HasSuffix(name, ".pub") {
		switch strings.TrimPrefix(name, "id_") {
		case "rsa", "dsa", "ecdsa", "ed25519", "ecdsa_sk", "ed25519_sk":
			return true
		}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore":
		return true
	}
	return false
}

// SourceFile reports whether a file named name is source a build reads,
// of a kind no common tool writes into its output directory: Go files,
// Dockerfiles, Makefiles and shell scripts. A directory named like build
// output ("build", "out", "bin") that holds one is the program's own
// code (a Go package internal/build, a build/ of CI scripts), not output.
func SourceFile(name string) bool {
	switch name {
	case "Dockerfile", "Containerfile", "Makefile", "go.mod", "Jenkinsfile":
		return true
	}
	switch filepath.Ext(name) {
	case ".go", ".sh", ".mk", ".dockerfile":
		return true
	}
	return strings.HasPrefix(name, "Dockerfile.")
}
