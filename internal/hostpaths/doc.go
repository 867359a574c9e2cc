// Package hostpaths classifies the paths of a host directory that a build
// should usually not send to the engine: credential files, version control
// metadata, installed dependencies and build output.
//
// It holds only the patterns, so that the linter (which looks at a
// directory before a build) and the engine's upload report (which sees
// what a build actually sent) name the same things the same way.
package hostpaths
