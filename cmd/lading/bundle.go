package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ladingbuild/lading/bundle"
)

const bundleUsage = `usage: lading bundle create [-add] [-insecure] OUT IMAGE...
       lading bundle ls [-json] BUNDLE
       lading bundle verify BUNDLE
       lading bundle push [-insecure] BUNDLE REGISTRY

Offline bundles: several images (every platform, with their provenance
and SBOM attestations) in one OCI image layout that stores each shared
blob once, to carry to a site without internet.

  create   write the bundle OUT (a directory, or a tar archive when OUT ends
           in .tar) holding each IMAGE: a registry reference, or the path of
           an OCI tarball or another bundle (all its images, under the names
           it gives them); with -add, add to the bundle already at OUT
  ls       list the bundle's images: reference, digest, platforms, size
  verify   check every blob's size and digest
  push     verify, then load every image into REGISTRY (host[:port][/path])
           under its repository path and tag, keeping every digest

"lading bundle OUT IMAGE..." is short for create.
`

func runBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, bundleUsage)
		return errUsage
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "create":
	case "ls", "list":
		return runBundleList(ctx, rest, stdout, stderr)
	case "verify":
		return runBundleVerify(ctx, rest, stdout, stderr)
	case "push":
		return runBundlePush(ctx, rest, stdout, stderr)
	default:
		if strings.HasPrefix(sub, "-") && sub != "-add" && sub != "-insecure" {
			fmt.Fprint(stderr, bundleUsage)
			return errUsage
		}
		rest = args
	}
	return runBundleCreate(ctx, rest, stdout, stderr)
}

// bundleFlags is a flag set for one bundle subcommand.
func bundleFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lading bundle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, bundleUsage); fs.PrintDefaults() }
	return fs
}

func runBundleCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := bundleFlags("create", stderr)
	add := fs.Bool("add", false, "add to the bundle at OUT instead of replacing it")
	insecure := fs.Bool("insecure", false, "reach registries over plain HTTP")
	if err := fs.Parse(args); err != nil || fs.NArg() < 2 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	out := fs.Arg(0)
	var srcs []bundle.Source
	for _, img := range fs.Args()[1:] {
		srcs = append(srcs, imageSource(img))
	}
	write := bundle.Create
	if *add {
		write = bundle.Add
	}
	c, err := write(ctx, out, srcs, insecureOption(*insecure)...)
	if err != nil {
		return err
	}
	printContents(stdout, c)
	fmt.Fprintf(stdout, "wrote %s\n", out)
	return nil
}

// imageSource is an image argument: an OCI layout (an OCI tarball, or
// another bundle, tar or directory) when such a file or directory exists,
// else a registry reference.
func imageSource(arg string) bundle.Source {
	if _, err := os.Stat(arg); err == nil {
		return bundle.Bundle(arg)
	}
	return bundle.Remote(arg)
}

func insecureOption(insecure bool) []bundle.Option {
	if insecure {
		return []bundle.Option{bundle.Insecure()}
	}
	return nil
}

func runBundleList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := bundleFlags("ls", stderr)
	asJSON := fs.Bool("json", false, "print the contents as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	c, err := bundle.List(ctx, fs.Arg(0))
	if c != nil {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(c); jerr != nil {
				return jerr
			}
		} else {
			printContents(stdout, c)
		}
	}
	return err
}

func runBundleVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := bundleFlags("verify", stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	c, err := bundle.Verify(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok, %d images, %d blobs (%s) checked\n", fs.Arg(0), len(c.Images), c.Blobs, bytesString(c.Size))
	return nil
}

func runBundlePush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := bundleFlags("push", stderr)
	insecure := fs.Bool("insecure", false, "reach the registry over plain HTTP")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	pushed, err := bundle.Push(ctx, fs.Arg(0), fs.Arg(1), insecureOption(*insecure)...)
	if err != nil {
		return err
	}
	for _, p := range pushed {
		fmt.Fprintf(stdout, "pushed %s@%s\n", p.Target, p.Digest)
	}
	return nil
}

// printContents writes a bundle's images as a table and its totals.
func printContents(w io.Writer, c *bundle.Contents) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REFERENCE\tDIGEST\tPLATFORMS\tATTESTATIONS\tSIZE")
	for _, img := range c.Images {
		var ps []string
		for _, p := range img.Platforms {
			ps = append(ps, p.Platform)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", img.Ref, img.Digest, strings.Join(ps, ","), img.Attestations, bytesString(img.Size))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d images, %d blobs, %s (each shared blob once)\n", len(c.Images), c.Blobs, bytesString(c.Size))
}
