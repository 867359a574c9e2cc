package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The runner metric's Java side: examples/java-war's test target (Maven
// packages the WAR, ~/.m2 a cache volume) with one source file changed, run
// as the example program on fresh engines, its caches set through the
// environment as a CI job would (LADING_CACHE_FROM for layers only,
// LADING_CACHE for layers and volumes). Reported, not targeted: the test
// environment's Maven repository is local, so the volume matters less.

const javaPackage = "github.com/ladingbuild/lading/examples/java-war"

// javaRows measures the Java side; problems are logged and leave it out.
func javaRows(ctx context.Context, c *config, repo, nonce string) []Row {
	rows, err := javaRunner(ctx, c, repo, nonce)
	if err != nil {
		c.logf("runner: java-war left out: %v", err)
		return nil
	}
	return rows
}

func javaRunner(ctx context.Context, c *config, repo, nonce string) ([]Row, error) {
	app := filepath.Join(filepath.Dir(c.app), "..", "java-war", "app")
	if _, err := os.Stat(filepath.Join(app, "pom.xml")); err != nil {
		return nil, fmt.Errorf("cannot find examples/java-war/app: %w", err)
	}
	bin := filepath.Join(c.work, "java-war")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, javaPackage).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", javaPackage, err, tailLines(string(out), 15))
	}
	src := func(name string) (string, error) {
		dir := filepath.Join(c.work, "java-src-"+name)
		if err := copyDir(app, dir); err != nil {
			return "", err
		}
		p := filepath.Join(dir, "src", "main", "java", "com", "example", "hello", "HelloServlet.java")
		dt, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		return dir, os.WriteFile(p, append(dt, []byte("\n// lading bench "+nonce+"-"+name+"\n")...), 0o644)
	}
	before, err := src("before")
	if err != nil {
		return nil, err
	}
	after, err := src("after")
	if err != nil {
		return nil, err
	}
	cache := "registry:" + benchRegistry() + "/" + repo + ":java-" + nonce
	run := func(f *freshEngine, dir string, env ...string) (float64, error) {
		cmd := exec.CommandContext(ctx, bin, "-src", dir, "test")
		cmd.Env = append(withoutVars(os.Environ(), append([]string{"LADING_CACHE", "LADING_CACHE_FROM", "LADING_CACHE_TO"}, caBundleVars...)...),
			append([]string{"BUILDKIT_HOST=" + f.addr, "LADING_PROGRESS=plain", "LADING_INSECURE_REGISTRY=" + benchRegistry()}, env...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = 5 * time.Second
		secs, err := timed(cmd.Run)
		if err != nil {
			return 0, fmt.Errorf("%s -src %s test: %w\n%s", bin, dir, err, tailLines(out.String(), 15))
		}
		return secs, nil
	}
	side := func(name, dir string, env ...string) (float64, error) {
		f, err := startFresh(ctx, c, "java-"+name)
		if err != nil {
			return 0, err
		}
		defer f.stop(c)
		secs, err := run(f, dir, env...)
		c.logf("runner: java-war %s %.2fs", name, secs)
		return secs, err
	}
	if _, err := side("seed", before, "LADING_CACHE="+cache); err != nil {
		return nil, fmt.Errorf("filling the caches: %w", err)
	}
	layers, err := side("layers", after, "LADING_CACHE_FROM="+cache)
	if err != nil {
		return nil, err
	}
	warm, err := side("warm", after, "LADING_CACHE=ro:"+cache)
	if err != nil {
		return nil, err
	}
	return []Row{
		{Name: "runner-java-warm", Unit: Seconds, Lading: warm, Peer: layers,
			Note: "examples/java-war's test target (mvn package), HelloServlet.java changed, LADING_CACHE vs LADING_CACHE_FROM on fresh engines; reported, not targeted"},
		{Name: "runner-java-layers", Unit: Seconds, Lading: layers, Peer: math.NaN()},
	}, nil
}
