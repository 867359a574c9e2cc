package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// Image describes an image pipeline for ImageTargets.
type Image struct {
	// Name tags the image in tarballs ("Name:Tag").
	Name string
	// Tag is the tag of tarball images; empty means "dev".
	Tag *string
	// Build returns the image; it is called when a target runs, after the
	// flags are parsed.
	Build func() *sdk.Container
	// Smoke, when set, returns a container whose last exec step checks the
	// image (start it, request a page…); its output is printed.
	Smoke func() *sdk.Container
	// After names the targets the build depends on (e.g. "test").
	After []string
}

// ImageTargets adds the targets an image pipeline needs and their flags:
// build (the default unless one is set), smoke (when img.Smoke is set),
// publish (-publish REF[,...]) and export (-oci PATH, -docker PATH,
// -bundle PATH: the image added to an offline bundle, see engine.Bundle).
func (p *Pipeline) ImageTargets(img Image) {
	p.images = append(p.images, img)
	publish := p.flags.String("publish", "", "image reference to push to, with a tag, for the publish target")
	oci := p.flags.String("oci", "", "write an OCI image tarball here, for the export target")
	docker := p.flags.String("docker", "", "write a docker-load tarball here, for the export target")
	bundlePath := p.flags.String("bundle", "", "add the image to this offline bundle (a directory, or a .tar), for the export target")
	tag := func() string {
		if img.Tag != nil && *img.Tag != "" {
			return img.Name + ":" + *img.Tag
		}
		return img.Name + ":dev"
	}

	p.Target("build", "build the "+img.Name+" image", func(ctx context.Context, e *engine.Engine) error {
		_, err := e.Build(ctx, img.Build())
		return err
	}, img.After...)
	if img.Smoke != nil {
		p.Target("smoke", "run the image and check it answers", func(ctx context.Context, e *engine.Engine) error {
			out, err := e.Stdout(ctx, img.Smoke())
			fmt.Print(out)
			return err
		}, "build")
	}
	p.Target("publish", "push the image to -publish", func(ctx context.Context, e *engine.Engine) error {
		if *publish == "" {
			return errors.New("give the image reference with -publish, e.g. -publish registry.example.com/" + img.Name + ":1.0")
		}
		dgst, err := e.Publish(ctx, img.Build(), *publish)
		if err == nil {
			fmt.Printf("published %s@%s\n", *publish, dgst)
		}
		return err
	}, "build")
	p.Target("export", "write the image to -oci or -docker tarballs, or add it to a -bundle", func(ctx context.Context, e *engine.Engine) error {
		var outs []engine.Output
		if *oci != "" {
			outs = append(outs, engine.OCITarball(*oci, tag()))
		}
		if *docker != "" {
			outs = append(outs, engine.DockerTarball(*docker, tag()))
		}
		if *bundlePath != "" {
			outs = append(outs, engine.Bundle(*bundlePath, tag()))
		}
		if len(outs) == 0 {
			return errors.New("give -oci PATH, -docker PATH and/or -bundle PATH")
		}
		_, err := e.Build(ctx, img.Build(), outs...)
		return err
	}, "build")
	if p.fallback == "" {
		p.fallback = "build"
	}
}
