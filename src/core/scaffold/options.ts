/** Options of the scaffolding commands, shared by every language. */
import type { OtlpProtocol } from './types.js';

/** `Add Tracing Setup`. */
export interface SetupOptions {
  /** The resource's `service.name`. */
  serviceName: string;
  /**
   * The receiver's base URL for the protocol, as Stagelight reports it: `http://127.0.0.1:4317`
   * for gRPC, `http://127.0.0.1:4318` for HTTP (a `/v1/traces` path is added where an exporter
   * wants the full URL).
   */
  endpoint: string;
  protocol: OtlpProtocol;
  /**
   * Python and TS/JS: the logs pipeline too, to the same receiver (Python: a `LoggingHandler`
   * on the root logger, so `logging.info(...)` inside a span arrives with that span; TS/JS: the
   * global logger provider of the logs API). Off unless asked for: a setup for traces is the
   * file most users want, and a handler on the root logger changes where Python's own log
   * output goes. Go and Java ignore it.
   */
  logs?: boolean;
}

/** `Trace This Function`. */
export interface TraceFunctionOptions {
  /** Span name; defaults to the function's name, qualified by its class or receiver type. */
  spanName?: string;
  /** Python only: a decorator (default) or a `with` block around the body. */
  pythonStyle?: 'decorator' | 'with';
  /** Tracer scope name when a tracer has to be declared (Go, Java, TS/JS); defaults per file. */
  tracerName?: string;
}

/** `Wrap Selection in Span`. */
export interface WrapSelectionOptions {
  spanName: string;
  tracerName?: string;
}

/** `Add Stage Attributes`. */
export interface StageAttributeOptions {
  /** Keys from `STAGE_ATTRIBUTES` (or custom keys, taken as strings). */
  keys: readonly string[];
  /** Source expressions for the values, by key; a typed placeholder otherwise. */
  values?: Readonly<Record<string, string>>;
}

/**
 * The variable every OpenTelemetry SDK reads for the OTLP base URL. A generated setup lets it
 * win over the endpoint written in (the receiver's port when the setup was written, which may
 * differ the next time), and `Run with Tracing` sets it to the running receiver.
 */
export const OTLP_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT';

/** The full OTLP/HTTP traces URL: the base URL plus `/v1/traces` unless a path is given. */
export function httpTracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  return u.toString();
}

/** The full OTLP/HTTP logs URL: the base URL plus `/v1/logs` unless a path is given. */
export function httpLogsUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/logs';
  return u.toString();
}

/** The gRPC endpoint as a URL with scheme and no path (`http://127.0.0.1:4317`). */
export function grpcUrl(endpoint: string): string {
  const u = new URL(endpoint);
  return `${u.protocol}//${u.host}`;
}
