package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The process metric's pure parts: the alternating pairs, the quietest
// pairs, the environment it gives the example, and the step counts it
// reads from the example's progress.

func TestPairedAlternating(t *testing.T) {
	t.Parallel()
	var order []string
	n := 0
	p, err := pairedAlternating(4,
		func() (float64, error) { order = append(order, "A"); n++; return float64(n), nil },
		func() (float64, error) { order = append(order, "B"); n++; return float64(100 + n), nil })
	require.NoError(t, err)
	assert.Equal(t, "ABBAABBA", strings.Join(order, ""), "the side that goes first alternates")
	// Each side's values stay on its side, in pair order.
	assert.Equal(t, []float64{1, 4, 5, 8}, p.a)
	assert.Equal(t, []float64{102, 103, 106, 107}, p.b)
}

func TestPairedAlternatingStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	calls := 0
	_, err := pairedAlternating(5,
		func() (float64, error) { calls++; return 1, nil },
		func() (float64, error) { calls++; return 0, boom })
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 2, calls)
}

func TestQuietest(t *testing.T) {
	t.Parallel()
	p := pair{a: []float64{5, 1, 9, 2, 7, 3, 8, 4}, b: []float64{5, 1, 9, 2, 7, 3, 8, 4}}
	q := quietest(p, 4)
	assert.Equal(t, []float64{1, 2}, q.a, "the two pairs (a quarter) with the smallest sums")
	assert.Equal(t, []float64{1, 2}, q.b)
	assert.Len(t, quietest(pair{a: []float64{3}, b: []float64{4}}, 4).a, 1, "at least one pair")
}

func TestWithoutVars(t *testing.T) {
	t.Parallel()
	env := []string{"PATH=/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca.crt", "LADING_CA_BUNDLE=/x", "SSL_CERT_FILE_EXTRA=y", "HOME=/root"}
	assert.Equal(t, []string{"PATH=/bin", "SSL_CERT_FILE_EXTRA=y", "HOME=/root"}, withoutVars(env, caBundleVars...))
}

func TestCountLadingSteps(t *testing.T) {
	t.Parallel()
	data := []byte(`lading: using engine unix:///run/buildkitd.sock (BUILDKIT_HOST)
{"vertexes":[{"digest":"sha256:aa","name":"exec go test ./... [graph/graph.go:20]"},{"digest":"sha256:bb","name":"copy /go.mod /src/go.mod [graph/graph.go:17]"}]}
{"vertexes":[{"digest":"sha256:aa","name":"exec go test ./... [graph/graph.go:20]","cached":true},{"digest":"sha256:cc","name":"from golang:1.26 [graph/graph.go:9]"},{"digest":"sha256:dd","name":"exec go build [graph/graph.go:21]","started":"2026-01-01T00:00:00Z"}]}

multistage summary:
`)
	ps, other := parseRawJSON(data)
	ran, cached := ps.countLadingSteps()
	assert.Equal(t, 2, ran, "the copy and the go build ran")
	assert.Equal(t, 1, cached, "go test came from the cache")
	assert.Contains(t, other, "multistage summary:")
}
