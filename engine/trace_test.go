package engine

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver collects the spans OTLP exporters send it, over HTTP
// (protobuf bodies on /v1/traces) or gRPC.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
	res   []*commonpb.KeyValue
}

func (o *otlpReceiver) add(req *collectortrace.ExportTraceServiceRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		o.res = append(o.res, rs.GetResource().GetAttributes()...)
		for _, ss := range rs.GetScopeSpans() {
			o.spans = append(o.spans, ss.GetSpans()...)
		}
	}
}

// Export is the gRPC TraceService's one call.
func (o *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	o.add(req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// ServeHTTP decodes an OTLP/HTTP protobuf request.
func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.add(&req)
	dt, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(dt)
}

// received returns the spans so far.
func (o *otlpReceiver) received() []*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*tracepb.Span(nil), o.spans...)
}

// startOTLPHTTP serves a receiver over HTTP and points the OTLP
// environment at it.
func startOTLPHTTP(t *testing.T) *otlpReceiver {
	t.Helper()
	o := &otlpReceiver{}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	return o
}

// startOTLPGRPC serves a receiver over gRPC and points the OTLP
// environment at it.
func startOTLPGRPC(t *testing.T) *otlpReceiver {
	t.Helper()
	o := &otlpReceiver{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, o)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+lis.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	return o
}

// spanAttrs returns a span's attributes as strings.
func spanAttrs(s *tracepb.Span) map[string]any {
	out := map[string]any{}
	for _, kv := range s.GetAttributes() {
		v := kv.GetValue()
		switch {
		case v.GetStringValue() != "":
			out[kv.GetKey()] = v.GetStringValue()
		case kv.GetValue().GetValue() == nil:
		default:
			switch x := v.GetValue().(type) {
			case *commonpb.AnyValue_BoolValue:
				out[kv.GetKey()] = x.BoolValue
			case *commonpb.AnyValue_IntValue:
				out[kv.GetKey()] = x.IntValue
			}
		}
	}
	return out
}

// traceSummary is a small build: a cached source, a cached step, one that
// ran (with a cause) and one that failed.
func traceSummary(start time.Time) Summary {
	return Summary{
		Duration: 900 * time.Millisecond, Ran: 2, Cached: 1,
		Steps: []StepSummary{
			{StepID: "from-1", Name: "from debian:bookworm", Op: "from", Location: "ci/main.go:10", Start: start, Duration: 10 * time.Millisecond},
			{StepID: "exec-2", Name: "apt-get update", Op: "exec", Location: "ci/main.go:11", Cached: true, Start: start.Add(20 * time.Millisecond)},
			{StepID: "exec-3", Name: "go build ./... TOKEN=s3cr3t-sentinel", Op: "exec", Location: "ci/main.go:12", Why: "env GOFLAGS changed", Start: start.Add(30 * time.Millisecond), Duration: 500 * time.Millisecond},
			{StepID: "exec-4", Name: "go test ./...", Op: "exec", Location: "ci/main.go:13", Error: "exit code: 1", Start: start.Add(600 * time.Millisecond), Duration: 200 * time.Millisecond},
		},
	}
}

func TestTraceExportOverOTLP(t *testing.T) {
	for name, start := range map[string]func(*testing.T) *otlpReceiver{"http": startOTLPHTTP, "grpc": startOTLPGRPC} {
		t.Run(name, func(t *testing.T) {
			o := start(t)
			r := &run{e: &Engine{addr: "unix:///run/buildkit/buildkitd.sock"}, scrub: newScrubber([][]byte{[]byte("s3cr3t-sentinel")})}
			ts := r.e.s.traceFor()
			require.NotNil(t, ts, "OTEL_EXPORTER_OTLP_ENDPOINT turns the export on")
			t0 := testT0
			require.NoError(t, r.exportTrace(t.Context(), ts, t0, traceSummary(t0), "step go test failed"))

			spans := o.received()
			require.Len(t, spans, 5)
			byName := map[string]*tracepb.Span{}
			for _, s := range spans {
				byName[s.GetName()] = s
				assert.NotContains(t, s.String(), "s3cr3t-sentinel")
			}
			build := byName["lading build"]
			require.NotNil(t, build)
			assert.Equal(t, uint64(t0.UnixNano()), build.GetStartTimeUnixNano())
			assert.Equal(t, uint64(t0.Add(900*time.Millisecond).UnixNano()), build.GetEndTimeUnixNano())
			assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, build.GetStatus().GetCode())
			assert.Equal(t, "unix:///run/buildkit/buildkitd.sock", spanAttrs(build)["lading.engine.address"])

			ran := byName["go build ./... TOKEN=***"]
			require.NotNil(t, ran, "the step's name is scrubbed")
			assert.Equal(t, build.GetSpanId(), ran.GetParentSpanId())
			assert.Equal(t, build.GetTraceId(), ran.GetTraceId())
			a := spanAttrs(ran)
			assert.Equal(t, "ran", a["lading.step.state"])
			assert.Equal(t, false, a["lading.step.cached"])
			assert.Equal(t, "ci/main.go:12", a["lading.step.location"])
			assert.Equal(t, "ci/main.go", a["code.file.path"])
			assert.Equal(t, int64(12), a["code.line.number"])
			assert.Equal(t, "env GOFLAGS changed", a["lading.step.why"])
			assert.Equal(t, uint64(500*time.Millisecond), ran.GetEndTimeUnixNano()-ran.GetStartTimeUnixNano())

			cached := spanAttrs(byName["apt-get update"])
			assert.Equal(t, "cached", cached["lading.step.state"])
			assert.Equal(t, true, cached["lading.step.cached"])
			assert.Equal(t, "source", spanAttrs(byName["from debian:bookworm"])["lading.step.state"])
			failed := byName["go test ./..."]
			assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, failed.GetStatus().GetCode())
			assert.Equal(t, "failed", spanAttrs(failed)["lading.step.state"])
			var service string
			for _, kv := range o.res {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			assert.Equal(t, "lading", service)
		})
	}
}

func TestTraceOffWithoutEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	var s settings
	assert.Nil(t, s.traceFor())
}

func TestTraceBadProtocolIsAnError(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	r := &run{e: &Engine{}, scrub: newScrubber(nil)}
	err := r.exportTrace(t.Context(), r.e.s.traceFor(), time.Now(), Summary{}, "")
	require.ErrorContains(t, err, `OTEL_EXPORTER_OTLP_PROTOCOL="http/json"`)
}

func TestSplitLocation(t *testing.T) {
	t.Parallel()
	for loc, want := range map[string]struct {
		file string
		line int
		ok   bool
	}{
		"ci/main.go:14": {"ci/main.go", 14, true},
		"c:/x.go:3":     {"c:/x.go", 3, true},
		"main.go":       {"", 0, false},
		"":              {"", 0, false},
		"x.go:abc":      {"", 0, false},
	} {
		f, l, ok := splitLocation(loc)
		assert.Equal(t, want.file, f, loc)
		assert.Equal(t, want.line, l, loc)
		assert.Equal(t, want.ok, ok, loc)
	}
}

// testT0 is the start of the sample build.
var testT0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
