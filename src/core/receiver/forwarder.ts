/**
 * Upstream forwarding (`--forward <otlp-http-url>`): every accepted batch is also sent on, as
 * OTLP/HTTP protobuf, to a collector, Tempo or Jaeger.
 *
 * Local ingest never waits for the upstream: `enqueue` only appends to a bounded in-memory
 * queue, and one sender drains it. When the upstream is down the head batch is retried with
 * exponential backoff; when the queue is full the oldest batch is dropped and counted.
 */
import type { Logger } from './ports.js';

export interface ForwarderOptions {
  /** Upstream OTLP/HTTP endpoint; `/v1/traces` is appended when the URL has no path. */
  url: string;
  /** Bytes of batches held while the upstream is slow or down (default 64 MiB). */
  maxQueueBytes?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Backoff bounds (defaults 250 ms .. 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  headers?: Record<string, string>;
  log?: Logger;
}

export interface ForwarderStats {
  url: string;
  /** Batches waiting (bounded by maxQueueBytes). */
  queuedBatches: number;
  queuedBytes: number;
  /** 1 while a batch is on the wire or waiting for its retry. */
  inFlightBatches: number;
  sentBatches: number;
  /** Batches dropped because the queue was full or the upstream refused them for good (4xx). */
  droppedBatches: number;
  failedAttempts: number;
  lastError: string;
}

/** Normalises the upstream URL: an endpoint without a path gets the OTLP traces path. */
export function forwardUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--forward needs an http(s) URL, got "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`--forward needs an http(s) URL, got "${url}"`);
  }
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  return u.toString();
}

export class Forwarder {
  readonly url: string;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private sending = false;
  /** The batch being sent or awaiting its retry; not part of `queue`. */
  private inFlight: Uint8Array | undefined;
  private closed = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly maxQueueBytes: number;
  private readonly timeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private stats = { sentBatches: 0, droppedBatches: 0, failedAttempts: 0, lastError: '' };
  private idleWaiters: Array<() => void> = [];
  /** Cancels the request in flight on close, so shutdown never waits for a hung upstream. */
  private readonly abort = new AbortController();

  constructor(private readonly opts: ForwarderOptions) {
    this.url = forwardUrl(opts.url);
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * 1024 * 1024;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.minBackoffMs = opts.minBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.backoffMs = this.minBackoffMs;
  }

  /** Queues a protobuf `ExportTraceServiceRequest`; never blocks, never throws. */
  enqueue(batch: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(batch);
    this.queuedBytes += batch.length;
    // Only waiting batches are dropped; the one on the wire (or awaiting its retry) is not in
    // the queue and is counted once, when its send ends.
    while (this.queuedBytes > this.maxQueueBytes && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queuedBytes -= dropped.length;
      this.stats.droppedBatches++;
    }
    this.pump();
  }

  /** Waiting batches and their bytes (the batch being sent is not counted). */
  getStats(): ForwarderStats {
    return {
      url: this.url,
      queuedBatches: this.queue.length,
      queuedBytes: this.queuedBytes,
      inFlightBatches: this.inFlight === undefined ? 0 : 1,
      ...this.stats,
    };
  }

  /** Resolves when nothing is waiting or in flight (for tests and orderly shutdown). */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.queue = [];
    this.queuedBytes = 0;
    this.inFlight = undefined;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    if (this.sending || this.retryTimer !== undefined || this.closed) return;
    if (this.inFlight === undefined) {
      const next = this.queue.shift();
      if (next === undefined) {
        this.notifyIdle();
        return;
      }
      this.queuedBytes -= next.length;
      this.inFlight = next;
    }
    const batch = this.inFlight;
    this.sending = true;
    void this.send(batch).then((outcome) => {
      this.sending = false;
      if (this.closed) return;
      if (outcome === 'retry') {
        this.stats.failedAttempts++;
        const delay = this.backoffMs;
        this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, delay);
        this.retryTimer.unref?.();
        return;
      }
      // Sent, or refused for good: either way this batch is done.
      this.inFlight = undefined;
      if (outcome === 'sent') this.stats.sentBatches++;
      else this.stats.droppedBatches++;
      this.backoffMs = this.minBackoffMs;
      this.pump();
    });
  }

  private async send(batch: Uint8Array): Promise<'sent' | 'retry' | 'refused'> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...this.opts.headers },
        body: batch,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'sent';
      this.stats.lastError = `upstream answered ${res.status}`;
      // OTLP/HTTP: 429, 502, 503, 504 are retryable; other errors are not.
      if ([429, 502, 503, 504].includes(res.status)) return 'retry';
      this.opts.log?.warn(`forwarding to ${this.url}: upstream refused a batch (${res.status})`);
      return 'refused';
    } catch (e) {
      if (this.closed) return 'refused';
      const msg = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
      if (this.stats.lastError !== msg) {
        this.opts.log?.warn(`forwarding to ${this.url} failed (${msg}); will retry`);
      }
      this.stats.lastError = msg;
      return 'retry';
    }
  }
}
