package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ladingbuild/lading/inspect"
)

const inspectUsage = `usage: lading inspect [-json] [-insecure] IMAGE

IMAGE is a registry reference (registry.example.com/app:1.0) or the path of
an OCI tarball. Prints each platform's config, its provenance (materials,
host directories) and its SBOM's package count.
`

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lading inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, inspectUsage) }
	asJSON := fs.Bool("json", false, "print everything inspect read as JSON (attestations included)")
	insecure := fs.Bool("insecure", false, "reach the registry over plain HTTP")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	var opts []inspect.Option
	if *insecure {
		opts = append(opts, inspect.Insecure())
	}
	img, err := inspect.Read(ctx, fs.Arg(0), opts...)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(img)
	}
	printImage(stdout, img)
	return nil
}

// printImage writes the human summary of img.
func printImage(w io.Writer, img *inspect.Image) {
	fmt.Fprintf(w, "%s\n  digest:    %s\n  mediaType: %s\n", img.Ref, img.Digest, img.MediaType)
	for _, p := range img.Platforms {
		fmt.Fprintf(w, "\nplatform %s\n  manifest:   %s\n", p.Platform, p.Digest)
		c := p.Config
		field := func(name, v string) {
			if v != "" {
				fmt.Fprintf(w, "  %-11s %s\n", name+":", v)
			}
		}
		field("created", c.Created)
		field("user", c.User)
		field("workdir", c.WorkingDir)
		field("entrypoint", quoteList(c.Entrypoint))
		field("cmd", quoteList(c.Cmd))
		for _, e := range c.Env {
			field("env", e)
		}
		field("ports", strings.Join(c.ExposedPorts, " "))
		keys := make([]string, 0, len(c.Labels))
		for k := range c.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			field("label", k+"="+c.Labels[k])
		}
		fmt.Fprintf(w, "  %-11s %d\n", "layers:", c.Layers)
		printProvenance(w, p.Provenance)
		if p.SBOM == nil {
			fmt.Fprintf(w, "  sbom:       none\n")
		} else {
			fmt.Fprintf(w, "  sbom:       %s, %d packages\n", p.SBOM.SPDXVersion, len(p.SBOM.Packages))
		}
		fmt.Fprintf(w, "  attestations: %d\n", len(p.Attestations))
	}
}

func printProvenance(w io.Writer, pr *inspect.Provenance) {
	if pr == nil {
		fmt.Fprintf(w, "  provenance: none\n")
		return
	}
	mode := "min"
	if pr.HasBuildConfig {
		mode = "max"
	}
	fmt.Fprintf(w, "  provenance: %s (%s)\n", pr.PredicateType, mode)
	if pr.StartedOn != "" {
		fmt.Fprintf(w, "    built:    %s .. %s (invocation %s)\n", pr.StartedOn, pr.FinishedOn, pr.InvocationID)
	}
	for _, m := range pr.Materials {
		fmt.Fprintf(w, "    material: %s %s\n", m.URI, digestString(m.Digest))
	}
	for _, l := range pr.Locals {
		d := l.Digest
		if d == "" {
			d = "(content not recorded)"
		}
		fmt.Fprintf(w, "    host dir: %s %s\n", l.Name, d)
	}
}

// digestString formats a digest set as "sha256:…" (algorithms sorted).
func digestString(d map[string]string) string {
	algs := make([]string, 0, len(d))
	for a := range d {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = a + ":" + d[a]
	}
	return strings.Join(out, " ")
}

func quoteList(v []string) string {
	if len(v) == 0 {
		return ""
	}
	dt, _ := json.Marshal(v)
	return string(dt)
}
