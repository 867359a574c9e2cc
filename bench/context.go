package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	bkllb "github.com/moby/buildkit/client/llb"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// The context metric: a generated tree of files sent to the engine as
// sdk.Host (a build of the Directory value itself: nothing but the
// transfer) against buildctl --local with the same transfer written in raw
// llb (llb.Local, SharedKeyHint = the directory's path, so that a
// directory's later transfers are incremental, as lading's are).
//
// First transfer: before each run pair the tree is renamed to a new path,
// so both sides send it whole. Re-transfer: one file is rewritten (same
// size, new content) before each run pair, and both sides send what
// changed since their previous transfer. Bytes are what the daemon reports
// in its "transferring NAME:" progress status.
//
// Each side's local-source records are removed from the engine at the end
// (see cleanup.go), so the benchmark does not leave gigabytes in a shared
// engine's cache.

const (
	contextTimeTarget  = 1.1
	contextBytesTarget = 1e6 // bytes re-sent after one file changed
	peerLocalName      = "lading-bench-context"
)

// treeSpec is the generated tree's shape.
type treeSpec struct {
	files int
	bytes int64 // total, approximately
}

func contextTree(quick bool) treeSpec {
	if quick {
		return treeSpec{files: 2000, bytes: 5e6}
	}
	return treeSpec{files: 20000, bytes: 200e6}
}

// fileSize is the size of file i: between half and one and a half times
// the average, spread deterministically.
func (t treeSpec) fileSize(i int) int {
	avg := t.bytes / int64(t.files)
	return int(avg/2 + int64(i*7919%t.files)*avg/int64(t.files))
}

// generateTree writes the tree under dir: 100 files per directory, random
// (incompressible) content. It returns the total size.
func generateTree(dir string, t treeSpec) (int64, error) {
	rng := rand.New(rand.NewChaCha8([32]byte{'l', 'a', 'd', 'i', 'n', 'g'}))
	pool := make([]byte, 4<<20)
	for i := 0; i < len(pool); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			pool[i+j] = byte(v >> (8 * j))
		}
	}
	var total int64
	for i := range t.files {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return 0, err
			}
		}
		size := t.fileSize(i)
		off := (i * 65537) % (len(pool) - size)
		data := append([]byte(fmt.Sprintf("file %d\n", i)), pool[off:off+size]...)[:size]
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.bin", i)), data, 0o644); err != nil {
			return 0, err
		}
		total += int64(size)
	}
	return total, nil
}

// changeOneFile rewrites file i of the tree with new content of the same size.
func changeOneFile(dir string, t treeSpec, i int, salt string) (string, error) {
	p := filepath.Join(dir, fmt.Sprintf("d%03d", i/100), fmt.Sprintf("f%05d.bin", i))
	size := t.fileSize(i)
	data := bytes.Repeat([]byte(salt+"\n"), size/(len(salt)+1)+1)[:size]
	return p, os.WriteFile(p, data, 0o644)
}

// peerDefinition is the raw llb the buildctl side sends: the local
// directory alone.
func peerDefinition(ctx context.Context, dir string) ([]byte, error) {
	def, err := bkllb.Local(peerLocalName, bkllb.SharedKeyHint(dir)).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := bkllb.WriteTo(def, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ladingLocalName is the local source name lading gives dir.
func ladingLocalName(ctx context.Context, dir string) (string, error) {
	p, err := llb.CompileValue(ctx, sdk.Host(dir), llb.Options{})
	if err != nil {
		return "", err
	}
	if len(p.Locals) != 1 {
		return "", fmt.Errorf("sdk.Host compiled to %d local sources", len(p.Locals))
	}
	return p.Locals[0].Name, nil
}

// contextSides runs one transfer per side of the tree at dir.
type contextSides struct {
	c *config
}

func (s *contextSides) lading(ctx context.Context, dir string) (secs float64, sent int64, err error) {
	name, err := ladingLocalName(ctx, dir)
	if err != nil {
		return 0, 0, err
	}
	s.c.ownLocal(name)
	r, err := runLading(ctx, s.c, sdk.Host(dir))
	if err != nil {
		return 0, 0, err
	}
	return r.seconds, r.progress.transferred(name), nil
}

func (s *contextSides) buildctl(ctx context.Context, dir string) (secs float64, sent int64, err error) {
	def, err := peerDefinition(ctx, dir)
	if err != nil {
		return 0, 0, err
	}
	s.c.ownLocal(peerLocalName)
	r, err := runBuildctl(ctx, s.c, def, "--local", peerLocalName+"="+dir)
	if err != nil {
		return 0, 0, err
	}
	return r.seconds, r.progress.transferred(peerLocalName), nil
}

func runContext(ctx context.Context, c *config) []Row {
	first := newRow("context-first", Seconds, Ratio, contextTimeTarget)
	firstBytes := newRow("context-first-bytes", Bytes, Info, 0)
	re := newRow("context-retransfer", Seconds, Ratio, contextTimeTarget)
	reBytes := newRow("context-retransfer-bytes", Bytes, Absolute, contextBytesTarget)
	reBytes.Strict = true
	rows := []Row{first, firstBytes, re, reBytes}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	if err := c.needBuildctl(); err != nil {
		return failed(rows, err)
	}
	spec := contextTree(c.quick)
	dir := filepath.Join(c.work, "tree-0")
	c.logf("context: generating %d files, ~%s", spec.files, formatBytes(float64(spec.bytes)))
	total, err := generateTree(dir, spec)
	if err != nil {
		return failed(rows, err)
	}
	defer func() { os.RemoveAll(dir) }() // dir is renamed below
	s := &contextSides{c: c}

	// First transfers, each of a path neither side has seen.
	var la, lb, ba, bb []float64
	for i := range c.runs {
		next := filepath.Join(c.work, fmt.Sprintf("tree-%d", i+1))
		if err := os.Rename(dir, next); err != nil {
			return failed(rows, err)
		}
		dir = next
		t, n, err := s.lading(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		la, lb = append(la, t), append(lb, float64(n))
		t, n, err = s.buildctl(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		ba, bb = append(ba, t), append(bb, float64(n))
		c.logf("context first transfer %d/%d: lading %s (%s), buildctl %s (%s)", i+1, c.runs,
			formatValue(la[i], Seconds), formatBytes(lb[i]), formatValue(ba[i], Seconds), formatBytes(bb[i]))
	}
	rows[0] = pair{la, ba}.row("context-first", Seconds, Ratio, contextTimeTarget)
	rows[0].Note = fmt.Sprintf("%d files, %s, sent as sdk.Host vs buildctl --local (raw llb.Local); lading %s, buildctl %s",
		spec.files, formatBytes(float64(total)), spread(la, Seconds), spread(ba, Seconds))
	rows[1] = pair{lb, bb}.row("context-first-bytes", Bytes, Info, 0)
	rows[1].Note = "bytes the daemon reported receiving (\"transferring NAME:\" progress)"
	if median(lb) < 0 || median(bb) < 0 {
		rows[1].Err = fmt.Errorf("the daemon reported no transfer (lading %v, buildctl %v)", lb, bb)
	}

	// Re-transfers after one file changed.
	la, lb, ba, bb = nil, nil, nil, nil
	for i := range c.runs {
		changed, err := changeOneFile(dir, spec, (i*4099+17)%spec.files, fmt.Sprintf("changed %d", i))
		if err != nil {
			return failed(rows, err)
		}
		t, n, err := s.lading(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		la, lb = append(la, t), append(lb, float64(n))
		t, n, err = s.buildctl(ctx, dir)
		if err != nil {
			return failed(rows, err)
		}
		ba, bb = append(ba, t), append(bb, float64(n))
		c.logf("context re-transfer %d/%d (%s changed): lading %s (%s), buildctl %s (%s)", i+1, c.runs, strings.TrimPrefix(changed, dir+"/"),
			formatValue(la[i], Seconds), formatBytes(lb[i]), formatValue(ba[i], Seconds), formatBytes(bb[i]))
	}
	rows[2] = pair{la, ba}.row("context-retransfer", Seconds, Ratio, contextTimeTarget)
	rows[2].Note = fmt.Sprintf("the same tree after one file (~%s) was rewritten; lading %s, buildctl %s",
		formatBytes(float64(spec.bytes/int64(spec.files))), spread(la, Seconds), spread(ba, Seconds))
	rows[3] = pair{lb, bb}.row("context-retransfer-bytes", Bytes, Absolute, contextBytesTarget)
	rows[3].Strict = true
	rows[3].Note = "bytes re-sent (daemon's progress); peer column: buildctl's"
	if median(lb) < 0 {
		rows[3].Err = fmt.Errorf("the daemon reported no transfer status for lading's re-transfer")
	}
	return rows
}
