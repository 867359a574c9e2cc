package lint

import (
	"path"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// manager is a package manager lint knows: how to tell it installs, where
// it keeps its caches and what in a step clears them.
type manager struct {
	name string
	// installs reports whether the command downloads packages.
	installs func(c command) bool
	// dirs are its cache directories; "~/" is the step user's home.
	dirs []string
	// env names a variable that moves the cache to its value.
	env string
	// cleared reports whether the step clears the cache dir (or tells the
	// manager not to keep one).
	cleared func(cmds []command, env []llb.EnvVar, dir string) bool
}

// sub is the first argument that is not a flag.
func sub(c command) string {
	for _, w := range c.words[1:] {
		if !strings.HasPrefix(w, "-") {
			return w
		}
	}
	return ""
}

func subIn(names ...string) func(c command) bool {
	return func(c command) bool {
		s := sub(c)
		for _, n := range names {
			if s == n {
				return true
			}
		}
		return false
	}
}

var managers = []manager{
	{name: "apt", installs: subIn("install", "update", "upgrade", "dist-upgrade", "full-upgrade", "build-dep"),
		dirs: []string{"/var/cache/apt", "/var/lib/apt/lists"}, cleared: func(cmds []command, _ []llb.EnvVar, dir string) bool {
			if dir == "/var/cache/apt" && runs(cmds, func(c command) bool { return isApt(c.name()) && sub(c) == "clean" }) {
				return true
			}
			return removes(cmds, dir)
		}},
	{name: "pip", installs: func(c command) bool { return sub(c) == "install" },
		dirs: []string{"~/.cache/pip"}, env: "PIP_CACHE_DIR", cleared: func(cmds []command, env []llb.EnvVar, dir string) bool {
			return hasEnv(env, "PIP_NO_CACHE_DIR") || runs(cmds, func(c command) bool { return has(c, "--no-cache-dir") }) || removes(cmds, dir)
		}},
	{name: "npm", installs: subIn("install", "i", "ci", "add", "update"),
		dirs: []string{"~/.npm"}, env: "npm_config_cache", cleared: func(cmds []command, _ []llb.EnvVar, dir string) bool {
			return runs(cmds, func(c command) bool { return c.name() == "npm" && sub(c) == "cache" && has(c, "clean") }) || removes(cmds, dir)
		}},
	{name: "yarn", installs: func(c command) bool { s := sub(c); return s == "" || s == "install" || s == "add" },
		dirs: []string{"~/.cache/yarn"}, env: "YARN_CACHE_FOLDER", cleared: func(cmds []command, _ []llb.EnvVar, dir string) bool {
			return runs(cmds, func(c command) bool { return c.name() == "yarn" && sub(c) == "cache" && has(c, "clean") }) || removes(cmds, dir)
		}},
	{name: "apk", installs: subIn("add", "upgrade", "update"),
		dirs: []string{"/var/cache/apk"}, cleared: func(cmds []command, _ []llb.EnvVar, dir string) bool {
			return runs(cmds, func(c command) bool { return c.name() == "apk" && has(c, "--no-cache") }) || removes(cmds, dir)
		}},
	{name: "dnf", installs: subIn("install", "upgrade", "update", "groupinstall", "reinstall"),
		dirs: []string{"/var/cache/dnf", "/var/cache/yum"}, cleared: func(cmds []command, _ []llb.EnvVar, dir string) bool {
			return runs(cmds, func(c command) bool { return isDnf(c.name()) && sub(c) == "clean" }) || removes(cmds, dir)
		}},
}

func isApt(name string) bool { return name == "apt-get" || name == "apt" || name == "aptitude" }
func isDnf(name string) bool { return name == "dnf" || name == "yum" || name == "microdnf" }

// managerOf returns the package manager a command runs and its command
// with "python -m pip" read as "pip".
func managerOf(c command) (*manager, command) {
	name := c.name()
	if strings.HasPrefix(name, "python") && len(c.words) > 2 && c.words[1] == "-m" && strings.HasPrefix(c.words[2], "pip") {
		c = command{words: c.words[2:]}
		name = "pip"
	}
	key := ""
	switch {
	case isApt(name):
		key = "apt"
	case name == "pip" || strings.HasPrefix(name, "pip3") || name == "pip2":
		key = "pip"
	case name == "npm", name == "yarn", name == "apk":
		key = name
	case isDnf(name):
		key = "dnf"
	}
	for i := range managers {
		if managers[i].name == key {
			return &managers[i], c
		}
	}
	return nil, c
}

func runs(cmds []command, f func(command) bool) bool {
	for _, c := range cmds {
		if len(c.words) > 0 && f(c) {
			return true
		}
	}
	return false
}

func has(c command, word string) bool {
	for _, w := range c.words[1:] {
		if w == word {
			return true
		}
	}
	return false
}

func hasEnv(env []llb.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name && e.Value != "" {
			return true
		}
	}
	return false
}

// removes reports whether the step runs rm -r on dir or a path in it
// (rm -rf /var/lib/apt/lists/* counts).
func removes(cmds []command, dir string) bool {
	tail := strings.TrimPrefix(dir, "~")
	return runs(cmds, func(c command) bool {
		if c.name() != "rm" {
			return false
		}
		for _, w := range c.words[1:] {
			w = strings.TrimRight(strings.TrimSuffix(w, "*"), "/")
			if w == "" || strings.HasPrefix(w, "-") {
				continue
			}
			if w == dir || strings.HasSuffix(w, tail) || within(dir, w) && w != "/" || within(w, dir) {
				return true
			}
		}
		return false
	})
}

// home is the step user's home directory, or "" when lint cannot know it
// (a user other than root: its home is in the image's /etc/passwd).
func home(user string) string {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" || name == "0" {
		return "/root"
	}
	return ""
}

// cacheDir resolves a manager's cache dir for a step: its variable's value
// if set, "~/" against the user's home ("" home: left as "~/…").
func cacheDir(m *manager, dir string, op *llb.ExecOp) string {
	if m.env != "" {
		for _, e := range op.Env {
			if strings.EqualFold(e.Name, m.env) && strings.HasPrefix(e.Value, "/") {
				return path.Clean(e.Value)
			}
		}
	}
	if rest, ok := strings.CutPrefix(dir, "~"); ok {
		if h := home(op.User); h != "" {
			return h + rest
		}
	}
	return dir
}

// mounted reports whether a cache volume covers dir.
func mounted(op *llb.ExecOp, dir string) bool {
	for _, m := range op.Mounts {
		if m.Kind != llb.MountCache && m.Kind != llb.MountTemp {
			continue
		}
		if rest, ok := strings.CutPrefix(dir, "~"); ok {
			if strings.HasSuffix(m.Target, rest) || strings.HasSuffix(m.Target, path.Dir(rest)) && path.Dir(rest) != "/" {
				return true
			}
			continue
		}
		if within(dir, m.Target) || within(m.Target, dir) {
			return true
		}
	}
	return false
}

// checkPackages: pkg-no-cache (any step) and pkg-cache-in-layer (steps
// of the value's own filesystem: a build stage's layers do not ship).
func (l *linter) checkPackages(n *llb.Node, op *llb.ExecOp, cmds []command) {
	done := map[string]bool{}
	for _, c := range cmds {
		m, c := managerOf(c)
		if m == nil || done[m.name] || !m.installs(c) {
			continue
		}
		done[m.name] = true
		var dirs, cached, left []string
		for _, d := range m.dirs {
			dir := cacheDir(m, d, op)
			dirs = append(dirs, dir)
			switch {
			case mounted(op, dir):
				cached = append(cached, dir)
			case !m.cleared(cmds, op.Env, dir):
				left = append(left, dir)
			}
		}
		if len(cached) == 0 {
			l.report(n, finding{rule: PackageNoCache, sev: Warning, subject: n.Loc.String() + m.name,
				msg: c.name() + " runs with no cache volume at " + strings.Join(dirs, " or ") + ": every rebuild downloads every package again",
				fix: "mount one: WithMountedCache(" + quote(dirs[0]) + ", sdk.CacheVolume(" + quote(m.name) + ")" + lockedHint(m) + ")"})
		}
		if len(left) > 0 && l.layer[n] {
			l.report(n, finding{rule: PackageCacheInLayer, sev: Warning, subject: n.Loc.String() + m.name,
				msg: c.name() + " leaves " + strings.Join(left, " and ") + " in the image's layer",
				fix: "mount a cache volume there, or clear it in the same step (" + clearHint(m) + ")"})
		}
	}
}

func lockedHint(m *manager) string {
	if m.name == "apt" {
		return ", sdk.Locked"
	}
	return ""
}

func clearHint(m *manager) string {
	switch m.name {
	case "apt":
		return "apt-get clean && rm -rf /var/lib/apt/lists/*"
	case "pip":
		return "pip install --no-cache-dir"
	case "npm":
		return "npm cache clean --force"
	case "yarn":
		return "yarn cache clean"
	case "apk":
		return "apk add --no-cache"
	}
	return "dnf clean all"
}
