package main

import "github.com/ladingbuild/lading/engine"

// localMode says how the local engine runs, for `lading engine start`
// and `status`.
func localMode(le *engine.LocalEngine) string {
	if le.Rootless {
		return "rootless"
	}
	return "root"
}
