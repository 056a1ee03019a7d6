/**
 * One forwarding request: POST an `ExportTraceServiceRequest` to the upstream as OTLP/HTTP
 * protobuf and say what became of it. The transport only; what to do next (retry, give up,
 * back off) is the forwarder's, by the rules in `forward-retry.ts`.
 */
import { decodeRpcStatus } from '../otlp/rpc-status.js';
import { isRetryableStatus, parseRetryAfter } from './forward-retry.js';

/** What became of one request. */
export type ForwardOutcome =
  | { kind: 'sent' }
  /** Try again later: a network error, a timeout, or 429/502/503/504. */
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  /** The upstream refused it for good (another 4xx or 5xx): retrying would not help. */
  | { kind: 'rejected'; status: number; error: string }
  /** Cancelled by the caller (shutdown). */
  | { kind: 'aborted' };

export interface PostOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Aborts the request (the forwarder's shutdown). */
  signal: AbortSignal;
}

/** Longest part of an error answer quoted in `lastError` and the log. */
const MAX_DETAIL_CHARS = 200;

/**
 * What an error answer says, for `lastError` and the log: an OTLP error body is a
 * `google.rpc.Status`, as protobuf (Jaeger and the Collector send that: "unmarshal: invalid
 * TraceID length") or as JSON; plain text is quoted as it is. At most `MAX_DETAIL_CHARS`, on one
 * line (the upstream's text goes into our log). Empty when there is nothing readable.
 */
export function errorDetail(contentType: string, body: Buffer): string {
  let text = '';
  if (/protobuf/.test(contentType)) {
    try {
      text = decodeRpcStatus(body).message;
    } catch {
      text = ''; // not a Status: nothing worth quoting
    }
  } else if (/json|text/.test(contentType)) {
    text = body.toString('utf8');
  }
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trim()
      .slice(0, MAX_DETAIL_CHARS)
  );
}

/** Sends `body` and resolves with the outcome; never rejects. */
export async function postBatch(
  url: string,
  body: Uint8Array,
  options: PostOptions,
): Promise<ForwardOutcome> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...options.headers },
      body,
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    const answer = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (res.ok) return { kind: 'sent' };
    const detail = errorDetail(res.headers.get('content-type') ?? '', answer);
    const error = `upstream answered ${res.status}${detail === '' ? '' : `: ${detail}`}`;
    if (isRetryableStatus(res.status)) {
      return {
        kind: 'retry',
        error,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      };
    }
    return { kind: 'rejected', status: res.status, error };
  } catch (e) {
    if (options.signal.aborted) return { kind: 'aborted' };
    const err = e as Error & { cause?: Error };
    if (err.name === 'TimeoutError') {
      return { kind: 'retry', error: `no answer within ${options.timeoutMs} ms` };
    }
    return { kind: 'retry', error: err.cause?.message ?? err.message };
  }
}
