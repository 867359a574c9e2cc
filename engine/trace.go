package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// WithTraceExporter exports every build as an OpenTelemetry trace through
// exp: a span for the build, with a child span per step (its name, Go
// line, whether it ran or was cached, why it ran, its duration and the
// engine's address). Without the option, builds export over OTLP when the
// standard variables say where, as BuildKit and buildx do:
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or
// OTEL_TRACES_EXPORTER=otlp), with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL "grpc" (the default) or "http/protobuf", and
// the exporters' other OTEL_EXPORTER_OTLP_* settings. Secret values are
// scrubbed from every attribute. The exporter is not shut down by lading.
// A build option: Connect and With.
//
// A trace that cannot be exported is a warning ([Summary.Warnings]), never
// a failed build.
func WithTraceExporter(exp sdktrace.SpanExporter) Option {
	return func(s *settings) {
		s.only("WithTraceExporter", forBuilds, "it is a build option")
		if exp == nil {
			s.run.trace = nil
			return
		}
		s.run.trace = &traceSettings{exporter: exp}
	}
}

// traceSettings say where builds' traces go: an exporter the program
// gave, or one made from the environment for each build.
type traceSettings struct {
	exporter sdktrace.SpanExporter
	// fromEnv makes an OTLP exporter per build, shut down after it.
	fromEnv bool
}

// traceFor returns where the build's trace goes: the option, else the
// OTLP environment, else nil.
func (s *settings) traceFor() *traceSettings {
	if s.run.trace != nil {
		return s.run.trace
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" ||
		os.Getenv("OTEL_TRACES_EXPORTER") == "otlp" {
		return &traceSettings{fromEnv: true}
	}
	return nil
}

// otlpExporter makes an OTLP trace exporter from the environment.
func otlpExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var c otlptrace.Client
	switch proto {
	case "", "grpc":
		c = otlptracegrpc.NewClient()
	case "http/protobuf":
		c = otlptracehttp.NewClient()
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: lading exports grpc or http/protobuf", quote(proto))
	}
	return otlptrace.New(ctx, c)
}

// traceTimeout bounds exporting one build's trace: what an unreachable
// collector costs each build.
const traceTimeout = 5 * time.Second

// exportTrace sends the build as a trace: the build's span from start to
// its end, a child span per step at the step's own times.
func (r *run) exportTrace(ctx context.Context, ts *traceSettings, start time.Time, sum Summary, errText string) (err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), traceTimeout)
	defer cancel()
	exp := ts.exporter
	if ts.fromEnv {
		if exp, err = otlpExporter(ctx); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, exp.Shutdown(ctx)) }()
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(serviceName()))
	if err != nil {
		res = resource.Default()
	}
	// The spans are collected as they end and exported in one call, so
	// that an unreachable collector costs one timeout, not one per span,
	// and its error comes back here instead of to OpenTelemetry's global
	// error handler.
	spans := &spanCollector{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans), sdktrace.WithResource(res))
	tracer := tp.Tracer("github.com/ladingbuild/lading/engine")
	end := start.Add(sum.Duration)
	bctx, build := tracer.Start(ctx, "lading build", trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("lading.engine.address", r.scrub.String(r.e.addr)),
			attribute.Int("lading.steps.ran", sum.Ran),
			attribute.Int("lading.steps.cached", sum.Cached),
		))
	if sum.Skipped != "" {
		build.SetAttributes(attribute.String("lading.skipped", r.scrub.String(sum.Skipped)))
	}
	for _, st := range sum.Steps {
		stepStart := st.Start
		if stepStart.IsZero() {
			stepStart = start
		}
		state := "ran"
		switch {
		case st.Error != "":
			state = "failed"
		case isSource(st.Op):
			state = "source"
		case st.Cached:
			state = "cached"
		}
		attrs := []attribute.KeyValue{
			attribute.String("lading.step.id", st.StepID),
			attribute.String("lading.step.op", st.Op),
			attribute.String("lading.step.state", state),
			attribute.Bool("lading.step.cached", st.Cached),
			attribute.String("lading.step.location", st.Location),
			attribute.String("lading.engine.address", r.scrub.String(r.e.addr)),
		}
		if file, line, ok := splitLocation(st.Location); ok {
			attrs = append(attrs, attribute.String("code.file.path", file), attribute.Int("code.line.number", line))
		}
		if st.Why != "" {
			attrs = append(attrs, attribute.String("lading.step.why", r.scrub.String(st.Why)))
		}
		_, span := tracer.Start(bctx, r.scrub.String(st.Name), trace.WithTimestamp(stepStart), trace.WithAttributes(attrs...))
		if st.Error != "" {
			span.SetStatus(codes.Error, r.scrub.String(st.Error))
		}
		span.End(trace.WithTimestamp(stepStart.Add(st.Duration)))
	}
	if errText != "" {
		build.SetStatus(codes.Error, errText)
	}
	build.End(trace.WithTimestamp(end))
	if err := tp.Shutdown(ctx); err != nil {
		return err
	}
	return exp.ExportSpans(ctx, spans.ended())
}

// spanCollector is a span processor that keeps the spans that ended.
type spanCollector struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (c *spanCollector) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (c *spanCollector) OnEnd(s sdktrace.ReadOnlySpan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, s)
}

func (c *spanCollector) Shutdown(context.Context) error   { return nil }
func (c *spanCollector) ForceFlush(context.Context) error { return nil }

// ended returns the spans that ended.
func (c *spanCollector) ended() []sdktrace.ReadOnlySpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.spans)
}

// serviceName is the trace's service.name: OTEL_SERVICE_NAME, else
// "lading".
func serviceName() attribute.KeyValue {
	if n := os.Getenv("OTEL_SERVICE_NAME"); n != "" {
		return attribute.String("service.name", n)
	}
	return attribute.String("service.name", "lading")
}

// splitLocation splits "dir/file.go:14" into its file and line.
func splitLocation(loc string) (string, int, bool) {
	i := strings.LastIndexByte(loc, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(loc[i+1:])
	if err != nil {
		return "", 0, false
	}
	return loc[:i], n, true
}
