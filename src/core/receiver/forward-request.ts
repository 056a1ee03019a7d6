/**
 * One forwarding request: POST an `ExportTraceServiceRequest` to the upstream as OTLP/HTTP
 * protobuf and say what became of it. The transport only; what to do next (retry, give up,
 * back off) is the forwarder's, by the rules in `forward-retry.ts`.
 */
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
    const text = await res.text().catch(() => '');
    if (res.ok) return { kind: 'sent' };
    const type = res.headers.get('content-type') ?? '';
    // An OTLP error body is a google.rpc.Status: readable as JSON, binary as protobuf.
    const detail =
      /json|text/.test(type) && text.trim() !== ''
        ? `: ${text.trim().slice(0, MAX_DETAIL_CHARS)}`
        : '';
    const error = `upstream answered ${res.status}${detail}`;
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
