package llb

import (
	"crypto/sha256"
	"encoding/hex"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The compiler writes LLB ops itself rather than through client/llb's
// States: a State is a chain of closures evaluated lazily at Marshal time,
// behind a marshal cache and a mutex per op, which costs more than the
// whole of what lading knows up front. What is written must still be
// exactly what client/llb marshals for the same graph (the same op bytes,
// so the same digests and cache keys, and the same metadata): the
// equivalence tests compare both for every kind of step and option.

// customName is the op metadata description key BuildKit shows in progress.
const customName = "llb.customname"

// vertex is one marshalled op of the graph.
type vertex struct {
	dgst digest.Digest
	dt   []byte
	md   bkllb.OpMetadata
	name string // the step's name, for the image history; "" for no step
	// deps are the vertices whose outputs the op reads, in the order
	// client/llb's Vertex.Inputs lists them (the definition lists ops in a
	// depth-first walk of that order).
	deps   []*vertex
	depArr [2]*vertex // room for deps, the common case
	done   bool       // listed in the definition being assembled
}

// newVertex marshals op and wraps it with its metadata.
func (c *compiler) newVertex(op *pb.Op, desc map[string]string, caps capSet, deps []*vertex) (*vertex, error) {
	dt, err := c.marshal(op)
	if err != nil {
		return nil, err
	}
	return c.vertexOf(dt, desc, caps, deps), nil
}

// marshal writes op into the compiler's byte arena: one allocation for
// many ops (each slice's capacity ends with it, so appending to one never
// overwrites the next).
func (c *compiler) marshal(op *pb.Op) ([]byte, error) {
	size := op.SizeVT()
	if cap(c.arena)-len(c.arena) < size {
		chunk := c.arenaChunk
		if chunk == 0 {
			chunk = 4 << 10
		}
		c.arena = make([]byte, 0, max(size, chunk))
		c.arenaChunk = min(2*chunk, 64<<10)
	}
	start := len(c.arena)
	c.arena = c.arena[:start+size]
	dt := c.arena[start : start+size : start+size]
	n, err := op.MarshalToSizedBufferVT(dt)
	if err != nil {
		return nil, err
	}
	return dt[:n], nil
}

// vertexOf wraps a marshalled op; deps is copied.
func (c *compiler) vertexOf(dt []byte, desc map[string]string, caps capSet, deps []*vertex) *vertex {
	if len(c.slab) == 0 {
		c.slab = make([]vertex, 32)
	}
	v := &c.slab[0]
	c.slab = c.slab[1:]
	v.dgst, v.dt = digestOf(dt), dt
	v.md = bkllb.OpMetadata{Description: desc, Caps: c.capMap(caps)}
	v.deps = append(v.depArr[:0:len(v.depArr)], deps...)
	return v
}

// digestOf is digest.FromBytes without its intermediate allocations.
func digestOf(dt []byte) digest.Digest {
	sum := sha256.Sum256(dt)
	var buf [7 + 2*sha256.Size]byte
	copy(buf[:], "sha256:")
	hex.Encode(buf[7:], sum[:])
	return digest.Digest(buf[:])
}

// addInput returns the index of v's output among inputs, adding it if no
// input reads the same digest yet (as client/llb does); pb.Empty for nil,
// the empty filesystem. The inputs live in a buffer reused op after op
// (see resetInputs): an op is marshalled before the next one is built.
func (c *compiler) addInput(inputs []*pb.Input, v *vertex) ([]*pb.Input, int64) {
	if v == nil {
		return inputs, int64(pb.Empty)
	}
	for i, in := range inputs {
		if in.Digest == string(v.dgst) && in.Index == 0 {
			return inputs, int64(i)
		}
	}
	if len(c.inputVals) == cap(c.inputVals) {
		// A new buffer: inputs already handed out keep the old one.
		c.inputVals = make([]pb.Input, 0, max(8, 2*cap(c.inputVals)))
	}
	c.inputVals = append(c.inputVals, pb.Input{Digest: string(v.dgst)})
	return append(inputs, &c.inputVals[len(c.inputVals)-1]), int64(len(inputs))
}

// resetInputs lets the next op reuse the input buffer. Call it before an
// op adds its first input, once no earlier op's message is in use.
func (c *compiler) resetInputs() { c.inputVals = c.inputVals[:0] }

// addDep appends v to deps unless it is nil or listed already.
func addDep(deps []*vertex, v *vertex) []*vertex {
	if v == nil {
		return deps
	}
	for _, d := range deps {
		if d == v {
			return deps
		}
	}
	return append(deps, v)
}

// pbPlatform is the op platform client/llb writes for p.
func pbPlatform(p ocispecs.Platform) *pb.Platform {
	out := &pb.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion}
	if p.OSFeatures != nil {
		out.OSFeatures = append([]string(nil), p.OSFeatures...)
	}
	return out
}

// definition lists the ops under out the way client/llb's State.Marshal
// does: depth first along each op's inputs, an op before the ops that read
// it, each digest once with the metadata of all the vertices that share
// it merged, and last the op naming the output.
func (c *compiler) definition(out *vertex) (*bkllb.Definition, error) {
	p := c.platform(Platform{})
	def := &bkllb.Definition{
		Metadata:    make(map[digest.Digest]bkllb.OpMetadata, len(c.nodes)+2),
		Constraints: &bkllb.Constraints{Platform: &p},
	}
	if out == nil {
		return def, nil
	}
	def.Def = make([][]byte, 0, len(c.nodes)+2)
	described := false
	type frame struct {
		v    *vertex
		next int
	}
	stack := make([]frame, 1, len(c.nodes)+1) // deep enough for a chain
	stack[0] = frame{v: out}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.v.deps) {
			d := top.v.deps[top.next]
			top.next++
			if !d.done {
				stack = append(stack, frame{v: d})
			}
			continue
		}
		v := top.v
		stack = stack[:len(stack)-1]
		if v.done {
			continue
		}
		v.done = true
		described = described || v.md.Description != nil
		if prev, ok := def.Metadata[v.dgst]; ok {
			def.Metadata[v.dgst] = mergeMetadata(prev, v.md)
			continue
		}
		def.Metadata[v.dgst] = v.md
		def.Def = append(def.Def, v.dt)
	}
	final := &pb.Op{Inputs: []*pb.Input{{Digest: string(out.dgst)}}}
	dt, err := c.marshal(final)
	if err != nil {
		return nil, err
	}
	def.Def = append(def.Def, dt)
	caps := capConstraints | capPlatform
	if described {
		caps |= capMetaDescription
	}
	def.Metadata[digestOf(dt)] = bkllb.OpMetadata{Caps: c.capMap(caps)}
	def.Source = &pb.Source{}
	return def, nil
}

// mergeMetadata merges b into a as client/llb does for two vertices with
// one digest (b's descriptions win), into new maps: a's may be shared.
func mergeMetadata(a, b bkllb.OpMetadata) bkllb.OpMetadata {
	if len(b.Description) > 0 {
		a.Description = merged(a.Description, b.Description)
	}
	if len(b.Caps) > 0 {
		a.Caps = merged(a.Caps, b.Caps)
	}
	return a
}
