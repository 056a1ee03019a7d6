/**
 * Log records and metric points as a user's program sends them: made by the OpenTelemetry JS
 * logs and metrics SDKs, encoded by their own protobuf serializers, decoded by the receiver's
 * decoders into what its stores hold.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { HrTime } from '@opentelemetry/api';
import {
  decodeLogsRequest,
  type LogRecordEntry,
} from '../../../src/core/otlp/logs-request-decoder.js';
import {
  decodeMetricsRequest,
  type MetricPoint,
} from '../../../src/core/otlp/metrics-request-decoder.js';

/** One `logger.emit`, with the span it is written in when it has one. */
export interface Emit {
  traceId?: string;
  spanId?: string;
  severityNumber?: SeverityNumber;
  severityText?: string;
  body: string | Record<string, unknown>;
  /** Epoch ms (the SDK reads a number below its start time as time since the process started). */
  timeMs?: number;
  attributes?: Record<string, string | number | boolean>;
}

/** The records of `emits`, from `service`, as the receiver decodes them. */
export async function sdkLogRecords(
  service: string,
  emits: readonly Emit[],
): Promise<LogRecordEntry[]> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('stagelight.test');
  for (const e of emits) {
    const ctx =
      e.traceId === undefined || e.spanId === undefined
        ? context.active()
        : trace.setSpanContext(context.active(), {
            traceId: e.traceId,
            spanId: e.spanId,
            traceFlags: TraceFlags.SAMPLED,
          });
    logger.emit({
      context: ctx,
      severityNumber: e.severityNumber,
      severityText: e.severityText,
      body: e.body as string,
      attributes: e.attributes,
      timestamp: e.timeMs,
    });
  }
  await provider.forceFlush();
  const bytes = ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords());
  await provider.shutdown();
  if (bytes === undefined) throw new Error('the SDK serialized nothing');
  const decoded = decodeLogsRequest(bytes);
  if (decoded.rejected > 0) throw new Error(decoded.rejectReasons.join('; '));
  return decoded.records;
}

class CollectOnDemand extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/**
 * A gauge `name` of `service` observed once per sample: each collection of the SDK's
 * observable gauge is dated at the sample's time (the SDK dates a collection "now"; the tests'
 * traces are at fixed times) and encoded by the SDK's serializer.
 */
export async function sdkGaugePoints(
  service: string,
  name: string,
  samples: ReadonlyArray<readonly [number, number]>,
  attributes: Record<string, string> = {},
): Promise<MetricPoint[]> {
  const reader = new CollectOnDemand();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    readers: [reader],
  });
  let value = 0;
  provider
    .getMeter('stagelight.test')
    .createObservableGauge(name)
    .addCallback((r) => r.observe(value, attributes));
  const out: MetricPoint[] = [];
  for (const [timeMs, v] of samples) {
    value = v;
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new Error(String(errors[0]));
    const at = hr(timeMs);
    const dated: typeof resourceMetrics = {
      ...resourceMetrics,
      scopeMetrics: resourceMetrics.scopeMetrics.map((sm) => ({
        ...sm,
        metrics: sm.metrics.map(
          (m) =>
            ({
              ...m,
              dataPoints: m.dataPoints.map((p) => ({ ...p, startTime: at, endTime: at })),
            }) as typeof m,
        ),
      })),
    };
    const bytes = ProtobufMetricsSerializer.serializeRequest(dated);
    if (bytes === undefined) throw new Error('the SDK serialized nothing');
    const decoded = decodeMetricsRequest(bytes);
    if (decoded.rejected > 0) throw new Error(decoded.rejectReasons.join('; '));
    out.push(...decoded.points);
  }
  await provider.shutdown();
  return out;
}

/** What a test compares of a stored record: every field but the shared resource and scope objects. */
export function logRecordFields(r: LogRecordEntry) {
  return {
    timeUnixNano: r.timeUnixNano,
    observedTimeUnixNano: r.observedTimeUnixNano,
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: r.body,
    attributes: r.attributes,
    flags: r.flags,
    traceId: r.traceId,
    spanId: r.spanId,
    eventName: r.eventName,
    service: r.resource.serviceName,
    scope: `${r.scope.name}@${r.scope.version}`,
  };
}
