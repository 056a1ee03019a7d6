"""
One trace with every kind of field the OTLP trace model has, sent by the OpenTelemetry Python
SDK's own OTLP exporter to the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT, over the protocol in
OTEL_EXPORTER_OTLP_PROTOCOL (grpc or http/protobuf), compressed as OTEL_EXPORTER_OTLP_COMPRESSION
says. The SDK configures the exporter from those variables, as in a user's program.

Writes to argv[1] what the SDK encoded for the wire (its ExportTraceServiceRequest messages,
as protobuf's own JSON mapping), so the test compares what Stagelight stored with the SDK's
encoding rather than with expectations written by hand.
"""

import json
import os
import sys

from google.protobuf.json_format import MessageToDict
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc") == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter


class Encoded(SpanExporter):
    """Keeps the SDK's wire encoding of every batch it is given."""

    def __init__(self):
        self.requests = []

    def export(self, spans):
        self.requests.append(MessageToDict(encode_spans(spans)))
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns
MS = 1_000_000

resource = Resource.create(
    {
        "service.name": "interop-python",
        "service.instance.id": "py-1",
        "deployment.environment": "test",
        "host.cores": 2,
    }
)
provider = TracerProvider(resource=resource)
encoded = Encoded()
exporter = OTLPSpanExporter()
provider.add_span_processor(SimpleSpanProcessor(encoded))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("interop.python", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.26.0")

root = tracer.start_span("inference_request", kind=SpanKind.SERVER, start_time=T0)
ctx = trace.set_span_in_context(root)
attributes = {
    "text": "héllo \"wörld\" \u2603",
    "empty.text": "",
    "flag": True,
    "flag.off": False,
    "count": 42,
    "negative": -7,
    "big": 2**62 + 1,
    "ratio": 0.125,
    "texts": ["a", "b", ""],
    "flags": [True, False],
    "counts": [1, -2, 2**53 + 1],
    "ratios": [1.5, -0.25],
}
stages = [
    ("preprocessing", SpanKind.INTERNAL),
    ("embedding", SpanKind.CLIENT),
    ("publish retrieval-requests", SpanKind.PRODUCER),
    ("process retrieval-requests", SpanKind.CONSUMER),
]
children = []
for i, (name, kind) in enumerate(stages):
    links = [Link(children[0].get_span_context(), {"link.reason": "follows"})] if children else []
    s = tracer.start_span(
        name, context=ctx, kind=kind, attributes=attributes, links=links, start_time=T0 + (1 + 10 * i) * MS
    )
    s.add_event("checkpoint", {"step": i, "stage": name}, timestamp=T0 + (2 + 10 * i) * MS)
    children.append(s)
    s.end(end_time=T0 + (9 + 10 * i) * MS)

failing = tracer.start_span("generation", context=ctx, kind=SpanKind.CLIENT, start_time=T0 + 50 * MS)
failing.add_event(
    "exception",
    {"exception.type": "ValueError", "exception.message": "max_tokens=80 exceeds the context"},
    timestamp=T0 + 55 * MS,
)
failing.set_status(Status(StatusCode.ERROR, "max_tokens=80 exceeds the context"))
failing.end(end_time=T0 + 60 * MS)
root.set_status(Status(StatusCode.OK))
root.end(end_time=T0 + 61 * MS)

provider.shutdown()
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump({"traceId": format(root.get_span_context().trace_id, "032x"), "requests": encoded.requests}, f)
