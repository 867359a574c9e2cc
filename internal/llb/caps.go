package llb

import (
	"math/bits"

	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// capSet is a set of the LLB capabilities an op's metadata declares (the
// engine checks it supports them), one bit per capability.
type capSet uint64

const (
	capConstraints capSet = 1 << iota
	capPlatform
	capMetaDescription
	capSourceImage
	capSourceLocal
	capSourceLocalUnique
	capSourceLocalIncludePatterns
	capSourceLocalExcludePatterns
	capSourceLocalSharedKeyHint
	capSourceHTTP
	capSourceHTTPChecksum
	capSourceHTTPPerm
	capExecMetaBase
	capExecMetaNetwork
	capExecMetaProxy
	capExecMetaSecurity
	capExecMountBind
	capExecMountCache
	capExecMountCacheSharing
	capExecMountSelector
	capExecMountTmpfs
	capExecMountSecret
	capExecMountSSH
	capExecSecretEnv
	capExecValidExitCode
	capFileBase
	capCount = iota
)

var capIDs = [capCount]apicaps.CapID{
	pb.CapConstraints,
	pb.CapPlatform,
	pb.CapMetaDescription,
	pb.CapSourceImage,
	pb.CapSourceLocal,
	pb.CapSourceLocalUnique,
	pb.CapSourceLocalIncludePatterns,
	pb.CapSourceLocalExcludePatterns,
	pb.CapSourceLocalSharedKeyHint,
	pb.CapSourceHTTP,
	pb.CapSourceHTTPChecksum,
	pb.CapSourceHTTPPerm,
	pb.CapExecMetaBase,
	pb.CapExecMetaNetwork,
	pb.CapExecMetaProxy,
	pb.CapExecMetaSecurity,
	pb.CapExecMountBind,
	pb.CapExecMountCache,
	pb.CapExecMountCacheSharing,
	pb.CapExecMountSelector,
	pb.CapExecMountTmpfs,
	pb.CapExecMountSecret,
	pb.CapExecMountSSH,
	pb.CapExecSecretEnv,
	pb.CapExecValidExitCode,
	pb.CapFileBase,
}

// capMap is the metadata caps map of s. Ops with the same caps share one
// map per compilation; nothing writes to it afterwards (mergeMetadata
// copies).
func (c *compiler) capMap(s capSet) map[apicaps.CapID]bool {
	if s == 0 {
		return nil
	}
	if m, ok := c.capMaps[s]; ok {
		return m
	}
	m := make(map[apicaps.CapID]bool, bits.OnesCount64(uint64(s)))
	for i := range capCount {
		if s&(1<<i) != 0 {
			m[capIDs[i]] = true
		}
	}
	if c.capMaps == nil {
		c.capMaps = map[capSet]map[apicaps.CapID]bool{}
	}
	c.capMaps[s] = m
	return m
}
