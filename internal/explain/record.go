package explain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ladingbuild/lading/internal/llb"
)

// Version is the format version of a [Record]; records of another version
// are ignored (a first build, for explanations).
const Version = 3

// Record is what is known of one build of one program and target: the
// steps and their inputs, and which ran. It is the JSON form `lading
// explain` compares.
type Record struct {
	Version int `json:"version"`
	// Program and Target identify what was built (see Identity).
	Program string `json:"program"`
	Target  string `json:"target"`
	// Platform is the platform the steps were compiled for.
	Platform string `json:"platform,omitempty"`
	// Time is when the record was made.
	Time time.Time `json:"time"`
	// Outputs describe where the build sent its result ("registry
	// example.com/app:1.0", "oci-tarball /tmp/x.tar"); empty for a build
	// only.
	Outputs []string `json:"outputs,omitempty"`
	// Digest is the image digest the build produced, if any.
	Digest string `json:"digest,omitempty"`
	// Result is a digest of what decides the result beyond the steps: the
	// image config the program sets, the epoch and the export settings.
	Result string `json:"result,omitempty"`
	// Steps lists the steps, every step after the ones it reads.
	Steps []Step `json:"steps"`
}

// Step is one step of a [Record].
type Step struct {
	ID       string `json:"id"`
	Op       string `json:"op"`
	Name     string `json:"name"`
	Location string `json:"location,omitempty"`
	// Key finds the same step in another build: its call site, operation
	// and occurrence at that call site.
	Key string `json:"key"`
	// Parents are the identities of the steps this one reads.
	Parents []string `json:"parents,omitempty"`
	// Inputs are the step's own arguments.
	Inputs []Input `json:"inputs,omitempty"`
	// SrcPath is the path a copy reads from its source.
	SrcPath string `json:"src_path,omitempty"`
	// Selectors are, per parent, the path the step reads of it; "" or
	// absent for all of it.
	Selectors []string `json:"selectors,omitempty"`
	// Base is the image of a "from" step.
	Base *Base `json:"base,omitempty"`
	// Host is the directory of a "host" step.
	Host *Host `json:"host,omitempty"`
	// Ran says the engine ran the step (false: it came from the cache, or
	// the record was made without a build).
	Ran bool `json:"ran,omitempty"`
}

// Input is one argument of a step; see llb.Input. Value is never a
// secret's value.
type Input struct {
	Kind  string `json:"kind"`
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}

// Base is a base image: the reference the program gave and the digest it
// resolved to ("" when not resolved, as offline).
type Base struct {
	Ref    string `json:"ref"`
	Given  string `json:"given,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// Pinned reports whether the reference itself names a digest: a tag can
// move, a digest cannot.
func (b *Base) Pinned() bool { return digestOf(b.Ref) != "" }

// FromSteps turns the compiler's step inputs into the steps of a record,
// with their matching keys. Host directories carry their path and
// patterns; their files are filled in by HashHost.
func FromSteps(steps []llb.StepInputs) []Step {
	out := make([]Step, 0, len(steps))
	seen := map[string]int{}
	for _, s := range steps {
		site := s.Location + " " + s.Op
		seen[site]++
		st := Step{
			ID: s.ID, Op: s.Op, Name: s.Name, Location: s.Location,
			Key:     site + " #" + strconv.Itoa(seen[site]),
			Parents: s.Parents, SrcPath: s.SrcPath, Selectors: s.Selectors,
		}
		for _, in := range s.Inputs {
			st.Inputs = append(st.Inputs, Input(in))
		}
		if s.Image != "" {
			st.Base = &Base{Ref: s.Image, Given: givenOf(s)}
		}
		if s.Host != nil {
			st.Host = &Host{Path: s.Host.Path, Include: s.Host.Include, Exclude: s.Host.Exclude}
		}
		out = append(out, st)
	}
	return out
}

// givenOf is the reference of a "from" step as the user wrote it.
func givenOf(s llb.StepInputs) string {
	const prefix = "from "
	if len(s.Name) > len(prefix) {
		return s.Name[len(prefix):]
	}
	return s.Image
}

// Of records a model value offline (no base image digests, host
// directories hashed from disk when hash is true).
func Of(ctx context.Context, m any, opt llb.Options, hash bool) (*Record, error) {
	steps, err := llb.Inputs(ctx, m, opt)
	if err != nil {
		return nil, err
	}
	r := &Record{Version: Version, Time: time.Now().UTC(), Steps: FromSteps(steps)}
	r.Seal(nil)
	if hash {
		for i := range r.Steps {
			if h := r.Steps[i].Host; h != nil {
				if err := HashHost(ctx, h, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	return r, nil
}

// MaxInputValue bounds the length of an input's value in a record: a
// longer one keeps its start and a hash of the whole.
const MaxInputValue = 200

// Seal prepares r for showing and saving: scrub (nil: none) removes the
// build's secret values from every step's name and input values, then
// each value is bounded to MaxInputValue bytes, its hash taken after
// scrubbing so that no secret is hashed either.
func (r *Record) Seal(scrub func(string) string) {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		s.Name = scrub(s.Name)
		for j := range s.Inputs {
			in := &s.Inputs[j]
			in.Name, in.Value = scrub(in.Name), bound(scrub(in.Value))
		}
	}
}

// bound shortens a value longer than MaxInputValue to its start and the
// hash of the whole.
func bound(v string) string {
	if len(v) <= MaxInputValue {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	cut := MaxInputValue - 20
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…sha256:" + hex.EncodeToString(sum[:])[:12]
}

// SetBases fills in the resolved digests of the record's base images from
// pinned references ("docker.io/library/golang:1.26@sha256:…"), as the
// compiler lists them in Program.Bases.
func (r *Record) SetBases(pinned []string) {
	byRef := map[string]string{}
	for _, p := range pinned {
		if d := digestOf(p); d != "" {
			byRef[p[:len(p)-len(d)-1]] = d
			byRef[p] = d
		}
	}
	for i := range r.Steps {
		if b := r.Steps[i].Base; b != nil {
			if d, ok := byRef[b.Ref]; ok {
				b.Digest = d
			} else if d := digestOf(b.Ref); d != "" {
				b.Digest = d
			}
		}
	}
}

// digestOf is the "sha256:…" part of a reference, or "".
func digestOf(ref string) string {
	for i := len(ref) - 1; i >= 0; i-- {
		switch ref[i] {
		case '@':
			return ref[i+1:]
		case '/':
			return ""
		}
	}
	return ""
}
