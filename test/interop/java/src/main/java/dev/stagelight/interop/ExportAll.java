package dev.stagelight.interop;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One trace with every kind of field the OTLP trace model has, sent by the OpenTelemetry Java
 * SDK's OTLP exporter as the environment configures it (autoconfiguration reads
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL and OTEL_EXPORTER_OTLP_COMPRESSION, as
 * in a user's program). The same spans also go to an exporter that keeps the SDK's own wire
 * encoding of them (its OTLP marshaler, written as OTLP JSON) in args[0], so the test compares
 * what Stagelight stored with the SDK's encoding rather than with expectations written by hand.
 */
public final class ExportAll {
  private static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z in ms

  /** Keeps the SDK's wire encoding of every batch it is given. */
  static final class Encoded implements SpanExporter {
    final List<String> requests = new ArrayList<>();

    @Override
    public synchronized CompletableResultCode export(Collection<SpanData> spans) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        TraceRequestMarshaler.create(spans).writeJsonTo(out);
      } catch (IOException e) {
        return CompletableResultCode.ofFailure();
      }
      requests.add(out.toString(StandardCharsets.UTF_8));
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  public static void main(String[] args) throws IOException {
    Encoded encoded = new Encoded();
    OpenTelemetrySdk sdk =
        AutoConfiguredOpenTelemetrySdk.builder()
            .addPropertiesSupplier(
                () ->
                    java.util.Map.of(
                        "otel.traces.exporter", "otlp",
                        "otel.metrics.exporter", "none",
                        "otel.logs.exporter", "none"))
            .addResourceCustomizer(
                (resource, config) ->
                    resource.merge(
                        Resource.create(
                            Attributes.builder()
                                .put("service.name", "interop-java")
                                .put("service.instance.id", "java-1")
                                .put("deployment.environment", "test")
                                .put("host.cores", 2L)
                                .build())))
            .addTracerProviderCustomizer(
                (builder, config) -> builder.addSpanProcessor(SimpleSpanProcessor.create(encoded)))
            .build()
            .getOpenTelemetrySdk();
    Tracer tracer =
        sdk.getTracerProvider()
            .tracerBuilder("interop.java")
            .setInstrumentationVersion("1.2.3")
            .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
            .build();

    Attributes attributes =
        Attributes.builder()
            .put("text", "héllo \"wörld\" \u2603")
            .put("empty.text", "")
            .put("flag", true)
            .put("flag.off", false)
            .put("count", 42L)
            .put("negative", -7L)
            .put("big", (1L << 62) + 1)
            .put("ratio", 0.125)
            .put(AttributeKey.stringArrayKey("texts"), List.of("a", "b", ""))
            .put(AttributeKey.booleanArrayKey("flags"), List.of(true, false))
            .put(AttributeKey.longArrayKey("counts"), List.of(1L, -2L, (1L << 53) + 1))
            .put(AttributeKey.doubleArrayKey("ratios"), List.of(1.5, -0.25, Double.MAX_VALUE))
            .build();

    Span root =
        tracer
            .spanBuilder("inference_request")
            .setSpanKind(SpanKind.SERVER)
            .setStartTimestamp(T0, TimeUnit.MILLISECONDS)
            .startSpan();
    Context ctx = Context.root().with(root);
    String[] names = {
      "preprocessing", "embedding", "publish retrieval-requests", "process retrieval-requests"
    };
    SpanKind[] kinds = {SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER};
    SpanContext first = null;
    for (int i = 0; i < names.length; i++) {
      var builder =
          tracer
              .spanBuilder(names[i])
              .setParent(ctx)
              .setSpanKind(kinds[i])
              .setAllAttributes(attributes)
              .setStartTimestamp(T0 + 1 + 10L * i, TimeUnit.MILLISECONDS);
      if (first != null) {
        builder.addLink(first, Attributes.of(AttributeKey.stringKey("link.reason"), "follows"));
      }
      Span s = builder.startSpan();
      if (first == null) first = s.getSpanContext();
      s.addEvent(
          "checkpoint",
          Attributes.builder().put("step", (long) i).put("stage", names[i]).build(),
          T0 + 2 + 10L * i,
          TimeUnit.MILLISECONDS);
      s.end(T0 + 9 + 10L * i, TimeUnit.MILLISECONDS);
    }
    Span failing =
        tracer
            .spanBuilder("generation")
            .setParent(ctx)
            .setSpanKind(SpanKind.CLIENT)
            .setStartTimestamp(T0 + 50, TimeUnit.MILLISECONDS)
            .startSpan();
    failing.addEvent(
        "exception",
        Attributes.builder()
            .put("exception.type", "ValueError")
            .put("exception.message", "max_tokens=80 exceeds the context")
            .build(),
        T0 + 55,
        TimeUnit.MILLISECONDS);
    failing.setStatus(StatusCode.ERROR, "max_tokens=80 exceeds the context");
    failing.end(T0 + 60, TimeUnit.MILLISECONDS);
    root.setStatus(StatusCode.OK);
    root.end(T0 + 61, TimeUnit.MILLISECONDS);

    sdk.getSdkTracerProvider().shutdown().join(30, TimeUnit.SECONDS);
    String traceId = root.getSpanContext().getTraceId();
    StringBuilder json = new StringBuilder("{\"traceId\":\"").append(traceId).append("\",\"requests\":[");
    synchronized (encoded) {
      json.append(String.join(",", encoded.requests));
    }
    json.append("]}");
    Files.writeString(Path.of(args[0]), json.toString());
    System.out.println(traceId);
  }
}
