package inspect

import (
	"encoding/json"
	"slices"
	"strings"
)

// Predicate types of the statements inspect summarizes.
const (
	PredicateSLSA1  = "https://slsa.dev/provenance/v1"
	PredicateSLSA02 = "https://slsa.dev/provenance/v0.2"
	PredicateSPDX   = "https://spdx.dev/Document"
)

// PredicateHostDirectories is the predicate type of the statement lading
// attaches beside the provenance: the content digest of each host
// directory, under the names the provenance gives them
// (engine.HostDirectoriesPredicate).
const PredicateHostDirectories = "https://ladingbuild.dev/attestations/host-directories/v1"

// hostDirectories is that statement's predicate.
type hostDirectories struct {
	Directories []Local `json:"directories"`
}

func isProvenance(pt string) bool { return pt == PredicateSLSA1 || pt == PredicateSLSA02 }
func isSPDX(pt string) bool {
	return pt == PredicateSPDX || strings.HasPrefix(pt, "https://spdx.dev/Document")
}

// slsa1 is the part of a SLSA v1 predicate (as BuildKit writes it) that
// inspect reads.
type slsa1 struct {
	BuildDefinition struct {
		BuildType          string `json:"buildType"`
		ExternalParameters struct {
			Request request `json:"request"`
		} `json:"externalParameters"`
		InternalParameters struct {
			BuildConfig json.RawMessage `json:"buildConfig"`
		} `json:"internalParameters"`
		ResolvedDependencies []Material `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Metadata struct {
			InvocationID string `json:"invocationID"`
			StartedOn    string `json:"startedOn"`
			FinishedOn   string `json:"finishedOn"`
			Completeness struct {
				ResolvedDependencies bool `json:"resolvedDependencies"`
			} `json:"buildkit_completeness"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

// slsa02 is the same for SLSA v0.2.
type slsa02 struct {
	BuildType  string `json:"buildType"`
	Invocation struct {
		Parameters request `json:"parameters"`
	} `json:"invocation"`
	BuildConfig json.RawMessage `json:"buildConfig"`
	Materials   []Material      `json:"materials"`
	Metadata    struct {
		InvocationID string `json:"buildInvocationID"`
		StartedOn    string `json:"buildStartedOn"`
		FinishedOn   string `json:"buildFinishedOn"`
		Completeness struct {
			Materials bool `json:"materials"`
		} `json:"completeness"`
	} `json:"metadata"`
}

type request struct {
	Frontend string            `json:"frontend"`
	Args     map[string]string `json:"args"`
	Locals   []struct {
		Name string `json:"name"`
	} `json:"locals"`
}

func parseProvenance(pt string, raw json.RawMessage) (*Provenance, error) {
	p := &Provenance{PredicateType: pt}
	var req request
	if pt == PredicateSLSA02 {
		var v slsa02
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		req = v.Invocation.Parameters
		p.BuildType, p.Materials = v.BuildType, v.Materials
		p.InvocationID, p.StartedOn, p.FinishedOn = v.Metadata.InvocationID, v.Metadata.StartedOn, v.Metadata.FinishedOn
		p.Complete = v.Metadata.Completeness.Materials
		p.HasBuildConfig = len(v.BuildConfig) > 0 && string(v.BuildConfig) != "null"
	} else {
		var v slsa1
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		bd := v.BuildDefinition
		req = bd.ExternalParameters.Request
		p.BuildType, p.Materials = bd.BuildType, bd.ResolvedDependencies
		md := v.RunDetails.Metadata
		p.InvocationID, p.StartedOn, p.FinishedOn = md.InvocationID, md.StartedOn, md.FinishedOn
		p.Complete = md.Completeness.ResolvedDependencies
		p.HasBuildConfig = len(bd.InternalParameters.BuildConfig) > 0 && string(bd.InternalParameters.BuildConfig) != "null"
	}
	p.Frontend, p.Args = req.Frontend, req.Args
	for _, l := range req.Locals {
		p.Locals = append(p.Locals, Local{Name: l.Name})
	}
	slices.SortFunc(p.Locals, func(a, b Local) int { return strings.Compare(a.Name, b.Name) })
	return p, nil
}

// addHostDigests fills in the content digests of p's host directories
// from lading's host directories statement.
func addHostDigests(p *Provenance, raw json.RawMessage) error {
	var h hostDirectories
	if err := json.Unmarshal(raw, &h); err != nil {
		return err
	}
	for i, l := range p.Locals {
		for _, d := range h.Directories {
			if d.Name == l.Name {
				p.Locals[i].Digest = d.Digest
			}
		}
	}
	return nil
}

// spdx is the part of an SPDX 2.x JSON document inspect reads.
type spdx struct {
	SPDXVersion string `json:"spdxVersion"`
	Name        string `json:"name"`
	Packages    []struct {
		Name         string `json:"name"`
		VersionInfo  string `json:"versionInfo"`
		ExternalRefs []struct {
			Type    string `json:"referenceType"`
			Locator string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
}

func parseSPDX(pt string, raw json.RawMessage) (*SBOM, error) {
	var v spdx
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	s := &SBOM{PredicateType: pt, Name: v.Name, SPDXVersion: v.SPDXVersion}
	for _, p := range v.Packages {
		pkg := Package{Name: p.Name, Version: p.VersionInfo}
		for _, r := range p.ExternalRefs {
			if r.Type == "purl" {
				pkg.PURL = r.Locator
				break
			}
		}
		s.Packages = append(s.Packages, pkg)
	}
	return s, nil
}
