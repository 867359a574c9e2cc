package main

import (
	"context"
	"encoding/json"
	"errors"
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
           it gives them), or PATH=REFERENCE for an OCI layout or tarball
           that names no image (skopeo's oci:DIR:TAG, crane's layouts);
           with -add, add to the bundle already at OUT
  ls       list the bundle's images: reference, digest, platforms, size
  verify   check every blob's size and digest
  push     verify, then load every image into REGISTRY (host[:port][/path])
           under its repository path and tag, keeping every digest

"lading bundle OUT IMAGE..." is short for create.
`

func runBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, bundleUsage)
		return fmt.Errorf("%w: lading bundle needs a command: create, ls, verify or push", errUsage)
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
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, bundleUsage)
		return nil
	default:
		if strings.HasPrefix(sub, "-") && sub != "-add" && sub != "-insecure" {
			fmt.Fprint(stderr, bundleUsage)
			return fmt.Errorf("%w: lading bundle: unknown flag %s", errUsage, sub)
		}
		if err := checkShortCreate(sub); err != nil {
			return err
		}
		rest = args
	}
	return runBundleCreate(ctx, rest, stdout, stderr)
}

// bundleCommands are the subcommands of lading bundle.
var bundleCommands = []string{"create", "ls", "list", "verify", "push"}

// checkShortCreate refuses the short form "lading bundle OUT IMAGE..."
// when OUT, a path that does not exist yet, looks like a mistyped
// subcommand: "lading bundle verfiy images.tar" must not write a bundle
// named verfiy.
func checkShortCreate(out string) error {
	if _, err := os.Stat(out); err == nil {
		return nil
	}
	for _, c := range bundleCommands {
		if d := editDistance(out, c); d > 0 && d <= 2 && len(out) > 1 {
			return fmt.Errorf("%w: lading bundle: unknown command %q: did you mean %s? "+
				"(to write a bundle named %s, say lading bundle create %s IMAGE...)", errUsage, out, c, out, out)
		}
	}
	return nil
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
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
	if ok, err := parseBundleFlags(fs, args, 2, -1, "the bundle OUT and at least one IMAGE"); !ok {
		return err
	}
	out := fs.Arg(0)
	var srcs []bundle.Source
	for _, img := range fs.Args()[1:] {
		src, err := imageSource(img)
		if err != nil {
			return err
		}
		srcs = append(srcs, src)
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

// parseBundleFlags parses a subcommand's flags and checks it has between
// minArgs and maxArgs (-1: no bound) arguments, saying which are wanted.
// run is false when there is nothing to run: -h was asked (and the usage
// printed), or the arguments are wrong (err says how).
func parseBundleFlags(fs *flag.FlagSet, args []string, minArgs, maxArgs int, want string) (run bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, nil
		}
		return false, fmt.Errorf("%w: %s: %w", errUsage, fs.Name(), err)
	}
	for _, a := range fs.Args() {
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			return false, fmt.Errorf("%w: %s: the flag %s comes after the arguments; put flags first (%s %s …)", errUsage, fs.Name(), a, fs.Name(), a)
		}
	}
	if n := fs.NArg(); n < minArgs || (maxArgs >= 0 && n > maxArgs) {
		fs.Usage()
		return false, fmt.Errorf("%w: %s takes %s, got %d arguments", errUsage, fs.Name(), want, n)
	}
	return true, nil
}

// imageSource is an image argument: an OCI layout (an OCI tarball, or
// another bundle, tar or directory) when such a file or directory exists;
// PATH=REFERENCE, the one image of the OCI layout or tarball at PATH
// stored as REFERENCE (for layouts that name no image); else a registry
// reference.
func imageSource(arg string) (bundle.Source, error) {
	if _, err := os.Stat(arg); err == nil {
		return bundle.Bundle(arg), nil
	}
	if i := strings.LastIndex(arg, "="); i >= 0 {
		path, ref := arg[:i], arg[i+1:]
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%w: image %q: PATH=REFERENCE names the OCI layout or tarball at PATH, but %w", errUsage, arg, err)
		}
		if ref == "" {
			return nil, fmt.Errorf("%w: image %q: no reference after =; give the name the image has at the site, e.g. %s=registry.example.com/app:1.0", errUsage, arg, path)
		}
		if fi.IsDir() {
			return bundle.OCILayout(path, ref), nil
		}
		return bundle.OCITarball(path, ref), nil
	}
	if looksLikePath(arg) {
		return nil, fmt.Errorf("%w: image %q: no such file or directory (an image is a registry reference, e.g. registry.example.com/app:1.0, or the path of an OCI layout, tarball or bundle)", errUsage, arg)
	}
	return bundle.Remote(arg), nil
}

// looksLikePath reports an argument that can only mean a file: it starts
// like a path or ends like an archive, which no registry reference does.
func looksLikePath(arg string) bool {
	for _, p := range []string{"/", "./", "../", "~"} {
		if strings.HasPrefix(arg, p) {
			return true
		}
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(arg, ext) {
			return true
		}
	}
	return false
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
	if ok, err := parseBundleFlags(fs, args, 1, 1, "one BUNDLE"); !ok {
		return err
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
	if ok, err := parseBundleFlags(fs, args, 1, 1, "one BUNDLE"); !ok {
		return err
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
	if ok, err := parseBundleFlags(fs, args, 2, 2, "the BUNDLE and the REGISTRY (host[:port][/path])"); !ok {
		return err
	}
	pushed, err := bundle.Push(ctx, fs.Arg(0), fs.Arg(1), insecureOption(*insecure)...)
	// What was pushed before a failure is said too: those images are in
	// the registry already.
	for _, p := range pushed {
		if strings.Contains(p.Target, "@") {
			// An image the bundle names by digest only is pushed by it.
			fmt.Fprintf(stdout, "pushed %s\n", p.Target)
			continue
		}
		fmt.Fprintf(stdout, "pushed %s@%s\n", p.Target, p.Digest)
	}
	if err != nil && len(pushed) > 0 {
		return fmt.Errorf("%w (the %d images above were pushed; pushing the bundle again skips what the registry has)", err, len(pushed))
	}
	return err
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
