// One trace with every kind of field the OTLP trace model has, sent by the OpenTelemetry Go
// SDK's own OTLP exporter (otlptracegrpc or otlptracehttp, as OTEL_EXPORTER_OTLP_PROTOCOL says)
// to OTEL_EXPORTER_OTLP_ENDPOINT, compressed as OTEL_EXPORTER_OTLP_COMPRESSION says: the SDK
// configures the exporter from those variables, as in a user's program.
//
// The same spans also go to a second otlptracehttp exporter pointed at a listener inside this
// process, which keeps the bytes the SDK put on the wire; they are written to os.Args[1] as
// protobuf's own JSON mapping, so the test compares what Stagelight stored with the SDK's
// encoding rather than with expectations written by hand.
package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func main() {
	ctx := context.Background()
	var mu sync.Mutex
	var requests []json.RawMessage
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			z, err := gzip.NewReader(r.Body)
			if err != nil {
				log.Fatal(err)
			}
			body = z
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			log.Fatal(err)
		}
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			log.Fatal(err)
		}
		js, err := protojson.Marshal(&req)
		if err != nil {
			log.Fatal(err)
		}
		mu.Lock()
		requests = append(requests, js)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer capture.Close()
	encoded, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(capture.URL+"/v1/traces"))
	if err != nil {
		log.Fatal(err)
	}

	var exporter sdktrace.SpanExporter
	if os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc" {
		exporter, err = otlptracegrpc.New(ctx)
	} else {
		exporter, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}

	res := resource.NewSchemaless(
		attribute.String("service.name", "interop-go"),
		attribute.String("service.instance.id", "go-1"),
		attribute.String("deployment.environment", "test"),
		attribute.Int("host.cores", 2),
	)
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSyncer(encoded),
		sdktrace.WithSyncer(exporter),
	)
	tracer := provider.Tracer("interop.go",
		trace.WithInstrumentationVersion("1.2.3"),
		trace.WithSchemaURL("https://opentelemetry.io/schemas/1.26.0"))

	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	attributes := []attribute.KeyValue{
		attribute.String("text", "héllo \"wörld\" \u2603"),
		attribute.String("empty.text", ""),
		attribute.Bool("flag", true),
		attribute.Bool("flag.off", false),
		attribute.Int("count", 42),
		attribute.Int("negative", -7),
		attribute.Int64("big", int64(1)<<62+1),
		attribute.Float64("ratio", 0.125),
		attribute.StringSlice("texts", []string{"a", "b", ""}),
		attribute.BoolSlice("flags", []bool{true, false}),
		attribute.Int64Slice("counts", []int64{1, -2, int64(1)<<53 + 1}),
		attribute.Float64Slice("ratios", []float64{1.5, -0.25, math.MaxFloat64}),
	}

	rootCtx, root := tracer.Start(ctx, "inference_request",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(0)))
	stages := []struct {
		name string
		kind trace.SpanKind
	}{
		{"preprocessing", trace.SpanKindInternal},
		{"embedding", trace.SpanKindClient},
		{"publish retrieval-requests", trace.SpanKindProducer},
		{"process retrieval-requests", trace.SpanKindConsumer},
	}
	var first trace.SpanContext
	for i, st := range stages {
		opts := []trace.SpanStartOption{
			trace.WithSpanKind(st.kind), trace.WithAttributes(attributes...),
			trace.WithTimestamp(at(1 + 10*i)),
		}
		if i > 0 {
			opts = append(opts, trace.WithLinks(trace.Link{
				SpanContext: first,
				Attributes:  []attribute.KeyValue{attribute.String("link.reason", "follows")},
			}))
		}
		_, s := tracer.Start(rootCtx, st.name, opts...)
		if i == 0 {
			first = s.SpanContext()
		}
		s.AddEvent("checkpoint", trace.WithTimestamp(at(2+10*i)),
			trace.WithAttributes(attribute.Int("step", i), attribute.String("stage", st.name)))
		s.End(trace.WithTimestamp(at(9 + 10*i)))
	}
	_, failing := tracer.Start(rootCtx, "generation",
		trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(50)))
	failing.AddEvent("exception", trace.WithTimestamp(at(55)), trace.WithAttributes(
		attribute.String("exception.type", "ValueError"),
		attribute.String("exception.message", "max_tokens=80 exceeds the context")))
	failing.SetStatus(codes.Error, "max_tokens=80 exceeds the context")
	failing.End(trace.WithTimestamp(at(60)))
	root.SetStatus(codes.Ok, "")
	root.End(trace.WithTimestamp(at(61)))

	if err := provider.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	out, err := json.Marshal(map[string]any{
		"traceId":  root.SpanContext().TraceID().String(),
		"requests": requests,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(os.Args[1], out, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(root.SpanContext().TraceID().String())
}
