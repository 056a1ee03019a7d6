/**
 * OpenTelemetry set-up for every demo process, written the way an instrumented service would
 * do it: one resource naming the service, and for each signal its provider, a batching stage
 * and the OTLP/gRPC exporter to the same endpoint:
 * - traces: a tracer provider with a batch span processor;
 * - logs: a logger provider with a batch log record processor; records are emitted in the
 *   active context, so a record written inside a stage's span carries that span's ids;
 * - metrics: a meter provider with a periodic exporting reader (every second, so that a short
 *   run still has points across its traces).
 * Copy this file into your own service to get the same telemetry.
 */
import {
  createNoopMeter,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Meter,
  type Span,
  type SpanOptions,
  type TimeInput,
  type Tracer,
  SpanStatusCode,
} from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';

/** W3C trace context carried in a message's headers (`traceparent`, `tracestate`). */
export type MessageHeaders = Record<string, string>;

export interface TracingOptions {
  /** `service.name` of this process. */
  readonly serviceName: string;
  /**
   * `service.instance.id`, e.g. the replica name; a random one when absent (every process is
   * an instance: a restarted gateway is a new one, which is how a new run is told apart).
   */
  readonly instanceId?: string;
  /** OTLP/gRPC endpoint, e.g. http://127.0.0.1:4317. */
  readonly endpoint: string;
  /** False: no provider at all (the API's no-op tracer), for measuring tracing overhead. */
  readonly enabled: boolean;
  /**
   * Stamp spans this many ms off the true time, as a process on a host whose clock is off
   * would (the demo's `--clock-skew`): the receiver's clock-skew adjustment must absorb it.
   */
  readonly clockOffsetMs?: number;
}

/** Log records of a stage, in the active context (inside a span they belong to it). */
export interface StageLog {
  info(body: string, attributes?: Attributes): void;
  warn(body: string, attributes?: Attributes): void;
  /** An ERROR record with the exception's type, message and stack trace. */
  error(body: string, error: unknown, attributes?: Attributes): void;
}

export interface Tracing {
  readonly tracer: Tracer;
  readonly log: StageLog;
  readonly meter: Meter;
  /**
   * Sends every span ended so far (the exporters keep running). Spans only: log records and
   * metrics go out on their own schedule, so that a worker flushing after each job waits for
   * no more than its spans.
   */
  flush(): Promise<void>;
  /** Flushes every span, log record and metric still buffered and stops the exporters. */
  shutdown(): Promise<void>;
}

const noopLog: StageLog = { info: () => {}, warn: () => {}, error: () => {} };

/** Metrics are read and sent this often, ms. */
const METRIC_INTERVAL_MS = 1000;

let contextReady = false;

/**
 * The context manager (async context across awaits) and the W3C propagator are process-wide in
 * the OpenTelemetry API; they are set once. The tracer is taken from our own provider rather
 * than the global one, so that a process can run the demo more than once (tests do) and so that
 * a host process's own global provider is never replaced.
 */
function ensureContext(): void {
  if (contextReady) return;
  contextReady = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

export function startTracing(opts: TracingOptions): Tracing {
  ensureContext();
  if (!opts.enabled) {
    return {
      tracer: trace.getTracer('noop'),
      log: noopLog,
      meter: createNoopMeter(),
      flush: async () => {},
      shutdown: async () => {},
    };
  }
  const resource = resourceFromAttributes({
    'service.name': opts.serviceName,
    'service.namespace': 'stagelight-demo',
    'service.instance.id': opts.instanceId ?? randomUUID(),
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: opts.endpoint }),
        scheduledDelayMillis: 1000,
        maxExportBatchSize: 512,
        maxQueueSize: 8192,
      }),
    ],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: opts.endpoint }),
        exportIntervalMillis: METRIC_INTERVAL_MS,
      }),
    ],
  });
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.endpoint }), {
        scheduledDelayMillis: 1000,
        maxExportBatchSize: 512,
        maxQueueSize: 8192,
      }),
    ],
  });
  let stopped: Promise<void> | undefined;
  return {
    tracer: new PreciseTracer(
      provider.getTracer('stagelight-demo', '1.0.0'),
      opts.clockOffsetMs ?? 0,
    ),
    log: stageLog(loggerProvider.getLogger('stagelight-demo', '1.0.0'), opts.clockOffsetMs ?? 0),
    meter: meterProvider.getMeter('stagelight-demo', '1.0.0'),
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= Promise.all([
        provider.shutdown(),
        loggerProvider.shutdown(),
        meterProvider.shutdown(),
      ]).then(() => {})),
  };
}

/**
 * Records stamped from the same clock as the spans (`preciseNow`, with the process's offset),
 * so that a record written inside a span falls within the span's bar.
 */
function stageLog(logger: Logger, offsetMs: number): StageLog {
  const emit = (
    severityNumber: SeverityNumber,
    severityText: string,
    body: string,
    attributes?: Attributes,
  ) =>
    logger.emit({
      timestamp: preciseNow() + offsetMs,
      context: context.active(),
      severityNumber,
      severityText,
      body,
      ...(attributes !== undefined ? { attributes } : {}),
    });
  return {
    info: (body, attributes) => emit(SeverityNumber.INFO, 'INFO', body, attributes),
    warn: (body, attributes) => emit(SeverityNumber.WARN, 'WARN', body, attributes),
    error: (body, error, attributes) => {
      const e = error instanceof Error ? error : new Error(String(error));
      // The exception attributes of the OpenTelemetry semantic conventions for logs.
      emit(SeverityNumber.ERROR, 'ERROR', body, {
        ...attributes,
        'exception.type': e.name,
        'exception.message': e.message,
        ...(e.stack !== undefined ? { 'exception.stacktrace': e.stack } : {}),
      });
    },
  };
}

/** Epoch ms with sub-millisecond resolution, from the monotonic clock. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * The SDK anchors each span's start to `Date.now()`, whose resolution is 1 ms, so spans of
 * different processes (and siblings within one) can appear up to a millisecond out of order:
 * a worker's span may seem to end after the gateway's next stage began, which misleads
 * critical-path analysis. This tracer stamps every span's start and end from the monotonic
 * clock with sub-millisecond resolution instead; processes started on one machine within a
 * run agree on it far better than a millisecond.
 */
class PreciseTracer implements Tracer {
  constructor(
    private readonly inner: Tracer,
    /** Added to every time this process stamps (a skewed clock). */
    private readonly offsetMs = 0,
  ) {}

  private shift(t: TimeInput | undefined): TimeInput {
    if (t === undefined) return preciseNow() + this.offsetMs;
    return typeof t === 'number' ? t + this.offsetMs : t;
  }

  startSpan(name: string, options: SpanOptions = {}, ctx?: Context): Span {
    const span = this.inner.startSpan(
      name,
      { ...options, startTime: this.shift(options.startTime) },
      ctx,
    );
    const end = span.end.bind(span);
    span.end = (endTime?: TimeInput) => end(this.shift(endTime));
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    const options = typeof a === 'function' ? {} : a;
    const parent = typeof b === 'object' ? b : context.active();
    const fn = (typeof a === 'function' ? a : typeof b === 'function' ? b : c) as F;
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), () => fn(span)) as ReturnType<F>;
  }
}

/** Writes the active (or given) context into message headers. */
export function injectHeaders(ctx: Context = context.active()): MessageHeaders {
  const headers: MessageHeaders = {};
  propagation.inject(ctx, headers);
  return headers;
}

/** Reads the producer's context from message headers. */
export function extractHeaders(headers: MessageHeaders | undefined): Context {
  return propagation.extract(context.active(), headers ?? {});
}

/** Records an exception on a span and marks it as failed (what every stage does on error). */
export function recordFailure(span: Span, error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}
