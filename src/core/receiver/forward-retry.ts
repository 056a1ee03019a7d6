/**
 * The forwarder's retry policy, as pure functions: which upstream answers are worth retrying,
 * how long a `Retry-After` asks to wait, and the backoff between attempts.
 *
 * OTLP/HTTP says 429, 502, 503 and 504 are retryable (with `Retry-After` honoured when present)
 * and other 4xx/5xx are not; a network error or a timeout is retried too, since the upstream may
 * simply not be up yet.
 */

/** Statuses the OTLP/HTTP specification lists as retryable. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Whether an upstream answer with this status should be retried later. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE.has(status);
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delay-seconds or an HTTP date. Undefined when
 * absent or unreadable (the caller falls back to its own backoff).
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // A bare number that is not delay-seconds ("1.5", "-3") is not a date either.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(maxMs, minMs * 2^(attempt-1))).
 * The spread keeps several Stagelights (or several retries of one) from hitting a recovering
 * upstream in lockstep; the cap bounds how long a recovered upstream waits to hear from us.
 */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(maxMs, minMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
