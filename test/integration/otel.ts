/**
 * Sends traces the way a user's program does: the official OpenTelemetry JS SDK with the OTLP
 * gRPC exporter, pointed at the receiver the extension started.
 */
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** One child stage of a request: its span name and how long it takes, in ms. */
export interface Stage {
  name: string;
  ms: number;
}

/** The fixture pipeline's stages, one after the other under `inference_request`. */
export const FIXTURE_STAGES: readonly Stage[] = [
  { name: 'preprocessing', ms: 20 },
  { name: 'embedding', ms: 60 },
  { name: 'retrieve_documents', ms: 90 },
  { name: 'reranking', ms: 400 },
  { name: 'generation', ms: 250 },
];

/**
 * Exports `requests` traces, each a root `inference_request` span with `stages` as sequential
 * children (timestamps set explicitly, so durations are exact and the test does not sleep).
 * Resolves once the exporter has delivered everything. Returns the trace ids.
 */
export async function sendPipelineTraces(
  grpcEndpoint: string,
  serviceName: string,
  requests = 3,
  stages: readonly Stage[] = FIXTURE_STAGES,
): Promise<string[]> {
  const exporter = new OTLPTraceExporter({ url: grpcEndpoint });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('stagelight-integration');
  const traceIds: string[] = [];
  try {
    let t = Date.now() - 60_000;
    for (let r = 0; r < requests; r++) {
      const total = stages.reduce((s, x) => s + x.ms, 0);
      const root = tracer.startSpan('inference_request', { startTime: t });
      traceIds.push(root.spanContext().traceId);
      const ctx = trace.setSpan(context.active(), root);
      let at = t;
      for (const stage of stages) {
        const span = tracer.startSpan(stage.name, { startTime: at }, ctx);
        span.setAttribute('model.name', `fixture-${stage.name}`);
        span.end(at + stage.ms);
        at += stage.ms;
      }
      root.end(t + total);
      t += total + 100;
    }
    await provider.forceFlush();
  } finally {
    await provider.shutdown();
  }
  return traceIds;
}
