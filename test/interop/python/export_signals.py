"""
Logs and metrics sent by the OpenTelemetry Python SDK's own OTLP exporters to the endpoint in
OTEL_EXPORTER_OTLP_ENDPOINT, over the protocol in OTEL_EXPORTER_OTLP_PROTOCOL (grpc or
http/protobuf), as a user's program sends them:

- logs: Python's `logging` through the SDK's LoggingHandler on the root logger, one record inside
  a span (so it carries that span's ids), one with an exception, one outside any span;
- metrics: a gauge (queue depth), a counter (requests) and a histogram (batch size), exported by
  a PeriodicExportingMetricReader when the provider shuts down.

Writes to argv[1] the ids of the span and what was recorded, for the test to compare with what
Stagelight stored.
"""

import json
import logging
import os
import sys

from opentelemetry import trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc") == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

service = os.environ.get("STAGELIGHT_SERVICE", "py-signals")
resource = Resource.create({"service.name": service})

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
set_logger_provider(logger_provider)
logging.getLogger().addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
logging.getLogger().setLevel(logging.INFO)

reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=60_000)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = meter_provider.get_meter("pipeline")

# Spans are only needed for their context here; nothing exports them.
tracer = TracerProvider(resource=resource).get_tracer("pipeline")
log = logging.getLogger("pipeline.rerank")

with tracer.start_as_current_span("reranking") as span:
    ctx = span.get_span_context()
    log.info("reranking %d candidates", 32, extra={"batch.size": 32, "model.name": "cross-encoder"})
    try:
        raise TimeoutError("model runner timed out")
    except TimeoutError:
        log.exception("rerank failed")
log.warning("queue high water outside any request")

depth = meter.create_gauge("queue.depth", unit="{request}")
depth.set(7, {"queue": "retrieval"})
requests = meter.create_counter("requests.served")
requests.add(5, {"route": "/v1/answer"})
requests.add(2, {"route": "/v1/answer"})
batch = meter.create_histogram(
    "batch.size", explicit_bucket_boundaries_advisory=[1.0, 8.0, 32.0]
)
for n in (1, 4, 16, 32, 64):
    batch.record(n)

logger_provider.shutdown()
meter_provider.shutdown()

with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(
        {
            "service": service,
            "traceId": format(ctx.trace_id, "032x"),
            "spanId": format(ctx.span_id, "016x"),
        },
        out,
    )
