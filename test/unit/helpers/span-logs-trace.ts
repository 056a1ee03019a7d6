/**
 * A small retrieval trace with log lines, made by the OpenTelemetry JS tracing and logs SDKs
 * (the lines emitted inside the spans, so they carry the span context), encoded by the SDK's
 * protobuf serializers and ingested by a real engine: for the span-logs tests, unit and browser.
 */
import assert from 'node:assert/strict';
import { context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { TraceEngine } from '../../../src/core/engine.js';

/** The trace's start, epoch ms. */
export const T0 = 1_764_000_000_000;

export interface LoggedTrace {
  engine: TraceEngine;
  traceId: string;
  ids: Record<'root' | 'embed' | 'rerank' | 'quiet', string>;
}

/**
 * A request span with three stages; `embed` logs INFO and WARN, `rerank` ERROR, `quiet` none,
 * and one line has no span context. `extraLines` more DEBUG lines go on `embed`. The caller
 * closes the engine.
 */
export async function makeLoggedTrace(extraLines = 0): Promise<LoggedTrace> {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'retrieval' }),
    spanProcessors: [new SimpleSpanProcessor(spanExporter)],
  });
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'retrieval' }),
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  const tracer = tracerProvider.getTracer('span-logs.test');
  const logger = loggerProvider.getLogger('span-logs.test');
  const root = tracer.startSpan('handle query', { startTime: T0 });
  const inRoot = trace.setSpan(context.active(), root);
  const child = (name: string, start: number, end: number, logs: (c: typeof inRoot) => void) => {
    const s = tracer.startSpan(name, { startTime: T0 + start }, inRoot);
    logs(trace.setSpan(inRoot, s));
    s.end(T0 + end);
    return s.spanContext().spanId;
  };
  const embed = child('embed', 5, 40, (c) => {
    logger.emit({
      context: c,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'embedding 32 passages',
      attributes: { 'batch.size': 32 },
      timestamp: T0 + 6,
    });
    logger.emit({
      context: c,
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: 'GPU memory at 93%',
      attributes: { 'gpu.id': 'cuda:0' },
      timestamp: T0 + 30,
    });
    for (let i = 0; i < extraLines; i++) {
      logger.emit({
        context: c,
        severityNumber: SeverityNumber.DEBUG,
        body: `tick ${i}`,
        timestamp: T0 + 7 + (i % 30),
      });
    }
  });
  const rerank = child('rerank', 40, 90, (c) => {
    logger.emit({
      context: c,
      severityNumber: SeverityNumber.ERROR,
      body: { error: 'CUDA out of memory', attempt: 2 },
      // Untrusted text: the details must show it as text.
      attributes: { 'request.input': '<img src=x onerror=alert(1)>' },
      timestamp: T0 + 88,
    });
  });
  const quiet = child('format', 90, 95, () => undefined);
  logger.emit({ body: 'no span context here', timestamp: T0 + 50 });
  root.end(T0 + 100);
  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  const engine = await TraceEngine.open({});
  const spans = spanExporter.getFinishedSpans();
  engine.ingestProtobuf(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array, 'http');
  const logBytes = ProtobufLogsSerializer.serializeRequest(logExporter.getFinishedLogRecords());
  const outcome = engine.logs.ingestProtobuf(logBytes as Uint8Array, 'http');
  assert.equal(outcome.rejected, 0);
  engine.store.flush();
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  return {
    engine,
    traceId: root.spanContext().traceId,
    ids: { root: root.spanContext().spanId, embed, rerank, quiet },
  };
}
