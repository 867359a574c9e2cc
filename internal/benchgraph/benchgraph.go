package benchgraph

import (
	"strconv"

	bkllb "github.com/moby/buildkit/client/llb"

	"github.com/ladingbuild/lading/sdk"
)

// SDK builds the graph with lading's SDK.
func SDK(n int) *sdk.Container {
	c := sdk.From("debian:bookworm").WithWorkdir("/src").
		WithMountedCache("/cache", sdk.CacheVolume("c"))
	for i := range n {
		c = c.WithEnv("STEP", strconv.Itoa(i)).WithExec([]string{"sh", "-c", "echo " + strconv.Itoa(i)})
	}
	return c
}

// Raw builds the same graph by hand with client/llb.
func Raw(n int) bkllb.State {
	st := bkllb.Image("docker.io/library/debian:bookworm").Dir("/src")
	for i := range n {
		st = st.AddEnv("STEP", strconv.Itoa(i))
		st = st.Run(bkllb.Args([]string{"sh", "-c", "echo " + strconv.Itoa(i)}),
			bkllb.AddMount("/cache", bkllb.Scratch(), bkllb.AsPersistentCacheDir("c", bkllb.CacheMountShared))).Root()
	}
	return st
}
