// Package units reads and writes the human sizes and durations that lading's
// engine settings and the lading command take: "10GB", "512MiB", "3d",
// "12h30m". Sizes are read as docker builder prune and buildkitd.toml read
// them (go-units' RAMInBytes: powers of 1024, so "10GB" is 10 GiB);
// durations are Go durations plus days ("d") and weeks ("w").
package units
