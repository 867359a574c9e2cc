// Package docs holds lading's user documentation: the Markdown files in
// this directory, starting with README.md.
//
// The package has no code of its own. Its test, docs_test.go, extracts
// every ```go block from docs/*.md and compiles it, so that the examples
// keep up with the API:
//
//   - A block whose first statement is a package clause is a whole file.
//     It is compiled alone, unless the line before its fence is an HTML
//     comment such as <!-- file: release/graph_test.go -->, which names
//     the file; blocks of one Markdown file naming the same directory are
//     compiled together as one package.
//   - Any other block is a fragment: it becomes the body of
//     func fragmentN(ctx context.Context, eng *engine.Engine) error (N is
//     the block's number), in a file that imports context, errors, fmt,
//     os, time, testing, sdk, engine and sdktest, followed by
//     "return nil" unless the block already ends with a return statement.
//     The fragments of one Markdown file share a package.
//
// Every block is written under a temporary docs/.build-* directory
// (removed afterwards) and the lot is checked with a single "go vet" run.
// Line directives make errors point at the Markdown file and line; the
// test also names the block's number. TestLinks checks the links between
// the pages.
//
//	go test ./docs/
package docs
