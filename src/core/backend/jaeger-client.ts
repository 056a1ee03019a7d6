/**
 * A client of Jaeger's query API v3 (HTTP/JSON, served by the query service, by default on port
 * 16686): find traces by service, operation, least duration and time range, and fetch one trace
 * by id. Both answer OTLP/JSON (`{"result": {"resourceSpans": [...]}}`), which the receiver's own
 * OTLP/JSON path decodes, so pulled spans meet the same limits as any other.
 *
 * The parameters are those of Jaeger's HTTP gateway (v1.76): `query.service_name`,
 * `query.operation_name`, `query.start_time_min` and `query.start_time_max` (RFC 3339, both
 * required), `query.duration_min` (a Go duration) and `query.num_traces` (the search depth,
 * required by the memory storage). A search that matches nothing answers 404 "No traces found":
 * that is an empty result, not an error; a trace id that is not there is {@link BackendError}
 * `not-found`.
 *
 * Error policy: every failure is a {@link BackendError} with a `kind` and a message a user can act
 * on (the backend down, a token refused, too slow, an answer too large or not the expected JSON).
 * Nothing is returned in part: a body over `maxBytes` is abandoned as it streams in.
 */

/** What went wrong talking to the backend. */
export type BackendErrorKind =
  | 'unreachable'
  | 'unauthorized'
  | 'not-found'
  | 'bad-request'
  | 'server'
  | 'timeout'
  | 'too-large'
  | 'malformed';

export class BackendError extends Error {
  constructor(
    readonly kind: BackendErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

export interface JaegerClientOptions {
  /** The query service's base URL, e.g. http://jaeger:16686 (a path prefix is kept). */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (a proxy in front of Jaeger checks it). */
  token?: string;
  /** Longest wait for one answer, headers and body together (default 15 s). */
  timeoutMs?: number;
  /** Largest answer accepted, in bytes (default 32 MiB). */
  maxBytes?: number;
}

export interface TraceQuery {
  service: string;
  operation?: string;
  /** Least span duration, ms. */
  minDurationMs?: number;
  /** Time range of span starts, ms since the epoch. */
  startMs: number;
  endMs: number;
  /** Most traces asked for (default 20). */
  limit?: number;
}

/** An OTLP/JSON `ExportTraceServiceRequest`-shaped document: what Jaeger's `result` holds. */
export interface OtlpJsonTraces {
  resourceSpans: unknown[];
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_LIMIT = 20;
const MIB = 1024 * 1024;

/** The URL without credentials, query or fragment: how a backend is named in marks and messages. */
export function backendLabel(url: string): string {
  const u = parseBackendUrl(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Parses a backend URL; throws BackendError `bad-request` unless it is http(s). */
export function parseBackendUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BackendError('bad-request', `not a URL: "${url.slice(0, 200)}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new BackendError(
      'bad-request',
      `the backend URL must be http or https, got ${u.protocol}`,
    );
  }
  return u;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

export class JaegerClient {
  readonly label: string;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(private readonly opts: JaegerClientOptions) {
    const u = parseBackendUrl(opts.url);
    this.base = `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
    this.label = this.base;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    if (opts.token !== undefined && !/^[\x21-\x7e]+$/.test(opts.token)) {
      throw new BackendError(
        'bad-request',
        'the backend token must be printable ASCII without spaces',
      );
    }
  }

  /** Traces matching the query, all their spans; an empty list when none match. */
  async findTraces(q: TraceQuery): Promise<OtlpJsonTraces> {
    if (q.service.trim() === '') throw new BackendError('bad-request', 'a service name is needed');
    if (!(q.endMs > q.startMs)) {
      throw new BackendError(
        'bad-request',
        'the time range is empty (its end is not after its start)',
      );
    }
    const params = new URLSearchParams({
      'query.service_name': q.service,
      'query.start_time_min': new Date(q.startMs).toISOString(),
      'query.start_time_max': new Date(q.endMs).toISOString(),
      'query.num_traces': String(q.limit ?? DEFAULT_LIMIT),
    });
    if (q.operation !== undefined && q.operation !== '') {
      params.set('query.operation_name', q.operation);
    }
    if (q.minDurationMs !== undefined && q.minDurationMs > 0) {
      // A Go duration; whole microseconds, the finest unit Jaeger stores.
      params.set('query.duration_min', `${Math.round(q.minDurationMs * 1000)}us`);
    }
    const found = await this.get(`/api/v3/traces?${params}`, 'search');
    return found ?? { resourceSpans: [] };
  }

  /** One trace by id (32 hex digits). Throws BackendError `not-found` when the backend lacks it. */
  async getTrace(traceId: string): Promise<OtlpJsonTraces> {
    const id = traceId.toLowerCase();
    if (!TRACE_ID.test(id)) {
      throw new BackendError(
        'bad-request',
        `a trace id is 32 hex digits, got "${traceId.slice(0, 80)}"`,
      );
    }
    const found = await this.get(`/api/v3/traces/${id}`, `trace ${id}`);
    if (found === undefined || found.resourceSpans.length === 0) {
      throw new BackendError('not-found', `trace ${id} is not in ${this.label}`, 404);
    }
    return found;
  }

  /** The services the backend has traces of, sorted. */
  async services(): Promise<string[]> {
    const doc = await this.getJson('/api/v3/services', 'services');
    const list = isObject(doc) ? doc.services : undefined;
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
      throw new BackendError(
        'malformed',
        `services: the answer of ${this.label} has no services list`,
      );
    }
    return [...list].sort();
  }

  /** GETs an API v3 answer of traces; undefined for Jaeger's "No traces found" 404. */
  private async get(pathAndQuery: string, what: string): Promise<OtlpJsonTraces | undefined> {
    const doc = await this.getJson(pathAndQuery, what);
    return doc === undefined ? undefined : this.traces(doc, what);
  }

  /** GETs an API v3 answer as parsed JSON; undefined for Jaeger's "No traces found" 404. */
  private async getJson(pathAndQuery: string, what: string): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.base + pathAndQuery, { headers, signal, redirect: 'error' });
    } catch (e) {
      throw this.transportError(e);
    }
    const text = await this.readCapped(res, what);
    if (res.status === 401 || res.status === 403) {
      throw new BackendError(
        'unauthorized',
        `${this.label} refused the request (${res.status}): ` +
          (this.opts.token === undefined ? 'it needs a token' : 'check the token'),
        res.status,
      );
    }
    if (res.status === 404) {
      // Jaeger says "No traces found" for a search with no match and for an unknown trace id;
      // anything else at 404 is not Jaeger's API (a wrong URL or path prefix).
      if (/No traces found/i.test(text)) return undefined;
      throw new BackendError(
        'not-found',
        `${this.label} has no Jaeger query API v3 at /api/v3 (404): check the URL`,
        404,
      );
    }
    if (res.status >= 400) {
      const kind = res.status >= 500 ? 'server' : 'bad-request';
      throw new BackendError(
        kind,
        `${this.label} answered ${res.status}: ${errorText(text)}`,
        res.status,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BackendError(
        'malformed',
        `${what}: ${this.label} did not answer JSON (is this Jaeger's query service?)`,
      );
    }
  }

  private transportError(e: unknown): BackendError {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      return new BackendError(
        'timeout',
        `${this.label} did not answer within ${this.timeoutMs / 1000} s`,
      );
    }
    const code = err.cause?.code;
    const why =
      code === 'ECONNREFUSED'
        ? 'connection refused (is it running?)'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host not found'
          : (err.cause?.message ?? err.message);
    return new BackendError('unreachable', `cannot reach ${this.label}: ${why}`);
  }

  /** The body as text, abandoned past `maxBytes` (the declared length is checked first). */
  private async readCapped(res: Response, what: string): Promise<string> {
    const tooLarge = () =>
      new BackendError(
        'too-large',
        `${what}: the answer of ${this.label} is larger than ${this.maxBytes / MIB} MiB; ` +
          'nothing was pulled (narrow the search or raise the limit)',
      );
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      if (res.body !== null) {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          size += chunk.byteLength;
          if (size > this.maxBytes) {
            await res.body.cancel().catch(() => {});
            throw tooLarge();
          }
          chunks.push(chunk);
        }
      }
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw this.transportError(e);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private traces(doc: unknown, what: string): OtlpJsonTraces {
    const result = isObject(doc) ? doc.result : undefined;
    const spans = isObject(result) ? result.resourceSpans : undefined;
    if (!Array.isArray(spans)) {
      throw new BackendError(
        'malformed',
        `${what}: the answer of ${this.label} has no result.resourceSpans list`,
      );
    }
    return { resourceSpans: spans };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Jaeger's `{"error": {"message": ...}}`, else the start of the body, on one line. */
function errorText(text: string): string {
  try {
    const doc = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof doc.error?.message === 'string') return doc.error.message.slice(0, 300);
  } catch {
    // not JSON
  }
  const line = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return line === '' ? '(empty answer)' : line;
}
