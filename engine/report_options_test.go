package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestReportOptionsAreBuildOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"WithReport":        WithReport("run.html"),
		"WithTraceExporter": WithTraceExporter(tracetest.NewInMemoryExporter()),
	} {
		for _, at := range []place{atConnect, atWith} {
			_, err := applyOptions(at, []Option{opt})
			require.NoError(t, err, "%s at %s", name, at)
		}
		_, err := applyOptions(atStartLocal, []Option{opt})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "engine."+name+" has no effect in engine.StartLocal")
	}
}

func TestWithTraceExporterNilTurnsItOff(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	s, err := applyOptions(atConnect, []Option{WithTraceExporter(tracetest.NewInMemoryExporter()), WithTraceExporter(nil)})
	require.NoError(t, err)
	assert.Nil(t, s.traceFor())
}

func TestWithTraceExporterReceivesTheSpans(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	s, err := applyOptions(atConnect, []Option{WithTraceExporter(exp)})
	require.NoError(t, err)
	r := &run{e: &Engine{addr: "tcp://127.0.0.1:1234", s: s}, scrub: newScrubber(nil)}
	require.NoError(t, r.exportTrace(t.Context(), r.e.s.traceFor(), traceSummary(testT0).Steps[0].Start, traceSummary(testT0), ""))
	spans := exp.GetSpans()
	require.Len(t, spans, 5)
	assert.Equal(t, "lading build", spans[len(spans)-1].Name)
}

func TestTraceServiceName(t *testing.T) {
	for env, want := range map[string]string{"": "lading", "release-pipeline": "release-pipeline"} {
		t.Setenv("OTEL_SERVICE_NAME", env)
		exp := tracetest.NewInMemoryExporter()
		r := &run{e: &Engine{}, scrub: newScrubber(nil)}
		require.NoError(t, r.exportTrace(t.Context(), &traceSettings{exporter: exp}, testT0, traceSummary(testT0), ""))
		spans := exp.GetSpans()
		require.NotEmpty(t, spans)
		v, ok := spans[0].Resource.Set().Value("service.name")
		require.True(t, ok)
		assert.Equal(t, want, v.AsString())
	}
}
