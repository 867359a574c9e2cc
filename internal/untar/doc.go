// Package untar extracts tar archives (OCI layouts, image archives) into a
// directory, refusing any entry whose path would leave it.
package untar
