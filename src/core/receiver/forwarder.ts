/**
 * Upstream forwarding (`--forward <otlp-http-url>`): every accepted batch is also sent on, as
 * OTLP/HTTP protobuf, to a collector, Tempo or Jaeger.
 *
 * ## Where batches come from
 *
 * A `ForwardSource` hands out accepted batches in order, each with a [start, end) position:
 * - with `--data`, the span log itself (`forward-log-source.ts`): the forwarder reads it by offset
 *   like a write-ahead-log reader and saves a cursor, so nothing accepted is lost while the
 *   upstream is down (up to `maxPendingBytes` on disk) or across a restart or a crash;
 * - without, a queue in memory (`forward-memory-queue.ts`), bounded by `maxPendingBytes`.
 * Past the bound the oldest pending batches are dropped, counted (`droppedBatches`,
 * `droppedBytes`) and logged; never silently.
 *
 * ## Guarantees
 *
 * - Ingest never waits: `offer` appends to the source and schedules a send on a later turn of
 *   the event loop. Reading the log is asynchronous, a window at a time.
 * - At least once: a batch is done only when the upstream acknowledged it (2xx), refused it for
 *   good (another 4xx/5xx: counted as rejected, logged once per status) or it was dropped. Up to
 *   `concurrency` requests are in flight and may finish in any order; the cursor advances only
 *   past a contiguous prefix of done batches, so after a crash the only batches sent twice are
 *   those that were in flight (at most `concurrency` requests of at most `maxRequestBytes`).
 * - Consecutive small batches are merged into one request (concatenated `ExportTraceServiceRequest`
 *   bytes are one valid request: its only field is a repeated one) up to `maxRequestBytes`; a
 *   413 or a 400 splits a merged request in halves (down to the one batch refused), so a batch
 *   the upstream refuses is refused alone.
 * - Failures: network errors, timeouts and 429/502/503/504 are retried, after `Retry-After`
 *   when the upstream sends one, else after an exponential backoff with full jitter (capped).
 *   While failing, one request at a time probes the upstream; the first success reopens the
 *   full window.
 * - Logging: an outage (failures for `downAfterMs` or longer) is logged once, with what is
 *   pending; the recovery once, with how long it lasted; the first drop of an episode once. Not
 *   one line per retry. `status()` (in `/api/health` and the status bar) has the rest.
 * - Shutdown: with the log, requests in flight get up to `shutdownMs` to finish (so they are not
 *   sent again), and the rest waits in the log for the next start. In memory, the queue is
 *   flushed until `shutdownMs` passes (at once if the upstream is failing); what remains is
 *   counted as dropped and logged.
 */
import type { Logger } from '../logger.js';
import { postBatch, type ForwardOutcome } from './forward-request.js';
import { backoffDelay } from './forward-retry.js';

/** One accepted batch (an `ExportTraceServiceRequest`) and its position in the source. */
export interface ForwardRecord {
  start: number;
  end: number;
  payload: Uint8Array;
}

/**
 * Consecutive records; [start, end) covers them and anything between them the source skipped
 * (unreadable log bytes), so consecutive chunks tile the positions with no gap.
 */
export interface ForwardChunk {
  start: number;
  end: number;
  records: ForwardRecord[];
}

/** Where the forwarder takes batches from (see the module comment). */
export interface ForwardSource {
  readonly mode: 'log' | 'memory';
  /** A batch was accepted (for the log: appended to it; the source reads it back from there). */
  offer(batch: Uint8Array): void;
  /** Positions not taken yet. */
  readonly unreadBytes: number;
  readonly unreadRecords: number;
  /**
   * The next records in order, up to `maxBytes` of payload and at least one if any is unread;
   * undefined when nothing is. Calls are answered in call order.
   */
  take(maxBytes: number): ForwardChunk | undefined | Promise<ForwardChunk | undefined>;
  /** Everything before `position` is done (delivered, rejected or dropped). */
  commit(position: number): void;
  close(): void;
}

export interface ForwardOptions {
  /** Upstream OTLP/HTTP endpoint; `/v1/traces` is appended when the URL has no path. */
  url: string;
  /**
   * Most bytes pending for a slow or down upstream before the oldest are dropped: on disk with
   * the log (default 512 MiB), in memory without (default 64 MiB).
   */
  maxPendingBytes?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Batches are merged into requests of up to this many bytes (default 1 MiB). */
  maxRequestBytes?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Backoff bounds (defaults 250 ms .. 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Failing for this long is an outage: logged, and `state` says `down` (default 1 s). */
  downAfterMs?: number;
  /** How long `close` may take (default 2 s). */
  shutdownMs?: number;
  headers?: Record<string, string>;
  log?: Logger;
}

export type ForwarderState = 'idle' | 'sending' | 'retrying' | 'down';

/** The forwarder as `/api/health` shows it. */
export interface ForwarderStatus {
  url: string;
  /** `log`: read from the span log (durable); `memory`: a bounded queue. */
  mode: 'log' | 'memory';
  /** `retrying`: the last attempts failed; `down`: failing for `downAfterMs` or longer. */
  state: ForwarderState;
  /** Accepted batches not yet delivered, rejected or dropped, and their bytes (log framing included). */
  pendingRecords: number;
  pendingBytes: number;
  maxPendingBytes: number;
  inFlightRequests: number;
  /** Counts of accepted batches (one `Export` each), not of requests. */
  sentBatches: number;
  sentRequests: number;
  droppedBatches: number;
  droppedBytes: number;
  rejectedBatches: number;
  failedAttempts: number;
  lastError: string;
  /** ISO times, or null. */
  lastSuccessAt: string | null;
  downSince: string | null;
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

const MIB = 1024 * 1024;
/** A `Retry-After` longer than this is capped: a typo upstream must not stall us for a day. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/**
 * Answers to a merged request that say something about its contents: 413 (too large) and 400
 * (malformed: Jaeger refuses a whole request for one span id of the wrong length). The request
 * is split in halves rather than refused, so that one bad batch does not take the batches merged
 * with it down too. Other refusals (401, 403, 404, ...) are about the upstream, not the batches.
 */
const SPLIT_STATUSES = new Set([400, 413]);
/** Wait before reading the log again after a read failed. */
const READ_RETRY_MS = 1000;
/** Most bytes one read for dropping takes, so a large excess is not read into memory at once. */
const TRIM_READ_BYTES = 4 * MIB;

/** Taken records on their way: waiting (to be sent or re-sent), on the wire, or done. */
interface Group {
  start: number;
  end: number;
  records: ForwardRecord[];
  state: 'waiting' | 'wire' | 'done';
}

export class Forwarder {
  readonly url: string;
  readonly mode: 'log' | 'memory';
  private readonly maxPendingBytes: number;
  private readonly concurrency: number;
  private readonly maxRequestBytes: number;
  private readonly timeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly downAfterMs: number;
  private readonly shutdownMs: number;
  private readonly headers: Record<string, string> | undefined;
  private readonly log: Logger | undefined;

  /** Taken groups not yet past the cursor, in position order (done ones wait for the prefix). */
  private outstanding: Group[] = [];
  /** Groups waiting to be (re)sent, in position order: the oldest goes first. */
  private waiting: Group[] = [];
  /** Positions and records of the groups in `outstanding` that are not done. */
  private heldBytes = 0;
  private heldRecords = 0;
  private wire = 0;
  private taking = 0;
  private trimming = false;
  private pumpScheduled = false;
  private backoffTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private failingSince: number | undefined;
  private downSince: number | undefined;
  /** Close started: no new batches are taken (the memory queue still drains). */
  private closing = false;
  /** Close finished: nothing more is sent or counted. */
  private closed = false;
  private closePromise: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly counts = {
    sentBatches: 0,
    sentRequests: 0,
    droppedBatches: 0,
    droppedBytes: 0,
    rejectedBatches: 0,
    failedAttempts: 0,
  };
  private lastError = '';
  private lastSuccessAt: number | undefined;
  private droppedAtOutageStart = 0;
  private dropEpisode = false;
  private readonly loggedRejections = new Set<number>();
  private loggedReadError = '';
  private changeWaiters: Array<() => void> = [];

  constructor(
    private readonly source: ForwardSource,
    opts: ForwardOptions,
  ) {
    this.url = forwardUrl(opts.url);
    this.mode = source.mode;
    this.maxPendingBytes = opts.maxPendingBytes ?? (source.mode === 'log' ? 512 : 64) * MIB;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.maxRequestBytes = opts.maxRequestBytes ?? MIB;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.minBackoffMs = opts.minBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.downAfterMs = opts.downAfterMs ?? 1000;
    this.shutdownMs = opts.shutdownMs ?? 2000;
    this.headers = opts.headers;
    this.log = opts.log;
    // A log may hold batches from before a restart.
    this.trim();
    this.schedulePump();
  }

  /**
   * A batch was accepted. `logged`: it is in the span log (the log source reads it from there;
   * one the log could not store is counted as dropped, since nothing durable holds it). Never
   * blocks, never throws.
   */
  offer(batch: Uint8Array, logged: boolean): void {
    if (this.closing) return;
    if (this.source.mode === 'log' && !logged) {
      this.counts.droppedBatches++;
      this.counts.droppedBytes += batch.length;
      this.noteDrop('the span log could not store it');
      return;
    }
    this.source.offer(batch);
    this.trim();
    this.schedulePump();
  }

  status(): ForwarderStatus {
    return {
      url: this.url,
      mode: this.mode,
      state:
        this.downSince !== undefined
          ? 'down'
          : this.failingSince !== undefined
            ? 'retrying'
            : this.wire > 0 || this.pendingBytes > 0
              ? 'sending'
              : 'idle',
      pendingRecords: this.source.unreadRecords + this.heldRecords,
      pendingBytes: this.pendingBytes,
      maxPendingBytes: this.maxPendingBytes,
      inFlightRequests: this.wire,
      ...this.counts,
      lastError: this.lastError,
      lastSuccessAt: isoOrNull(this.lastSuccessAt),
      downSince: isoOrNull(this.downSince),
    };
  }

  /** Bytes this forwarder holds in memory: the memory queue's pending batches (log mode: 0). */
  get memoryBytes(): number {
    return this.mode === 'memory' ? this.pendingBytes : 0;
  }

  private get pendingBytes(): number {
    return this.source.unreadBytes + this.heldBytes;
  }

  /** Resolves when nothing is pending or in flight (or the forwarder closed). */
  async whenIdle(): Promise<void> {
    while (!this.closed && !this.isIdle()) await this.nextChange();
  }

  private isIdle(): boolean {
    return (
      this.source.unreadBytes === 0 &&
      this.outstanding.length === 0 &&
      this.taking === 0 &&
      !this.trimming
    );
  }

  /** Stops forwarding; see the module comment for what happens to pending batches. */
  close(): Promise<void> {
    this.closePromise ??= this.shutDown();
    return this.closePromise;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + this.shutdownMs;
    const failing = this.failingSince !== undefined;
    if (this.mode === 'memory' && !failing) {
      this.pump();
      await this.waitUntil(() => this.isIdle(), deadline);
    } else {
      await this.waitUntil(() => this.wire === 0 && this.taking === 0, deadline);
    }
    this.closed = true;
    this.abort.abort();
    clearTimeout(this.backoffTimer);
    clearTimeout(this.readTimer);
    const records = this.source.unreadRecords + this.heldRecords;
    const bytes = this.pendingBytes;
    if (records > 0 && this.mode === 'memory') {
      this.counts.droppedBatches += records;
      this.counts.droppedBytes += bytes;
      this.log?.warn(
        `forwarding to ${this.url}: ${records} batches (${mib(bytes)}) not delivered at shutdown ` +
          `and dropped${failing ? ` (upstream failing: ${this.lastError})` : ''}`,
      );
    } else if (records > 0) {
      this.log?.info(
        `forwarding to ${this.url}: ${records} batches (${mib(bytes)}) wait in the span log ` +
          `for the next start`,
      );
    }
    this.source.close();
    this.notifyChange();
  }

  // --- sending ---------------------------------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    // A later turn: ingest returns first, and the batches of one turn share a request.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts what may start: waiting groups first (the oldest), then new batches. */
  private pump(): void {
    if (this.closed || this.backoffTimer !== undefined) return;
    const draining = this.closing && this.mode === 'memory';
    if (this.closing && !draining) return;
    const limit = this.failingSince !== undefined ? 1 : this.concurrency;
    while (this.wire < limit && this.waiting.length > 0) this.send(this.waiting.shift()!);
    while (
      this.wire + this.taking < limit &&
      this.source.unreadBytes > 0 &&
      this.readTimer === undefined &&
      this.backoffTimer === undefined
    ) {
      this.taking++;
      const taken = this.source.take(this.maxRequestBytes);
      if (taken instanceof Promise) {
        taken.then(
          (chunk) => {
            this.taking--;
            this.received(chunk, 'send');
          },
          (e: unknown) => {
            this.taking--;
            this.readFailed(e);
          },
        );
      } else {
        this.taking--;
        if (taken === undefined) break;
        this.received(taken, 'send');
      }
    }
    this.notifyChange();
  }

  /** A chunk came from the source: to send, or (over the budget) to drop. */
  private received(chunk: ForwardChunk | undefined, purpose: 'send' | 'drop'): void {
    if (this.closed) return;
    if (chunk !== undefined) {
      this.loggedReadError = '';
      const group: Group = { ...chunk, state: 'waiting' };
      this.outstanding.push(group);
      this.heldBytes += group.end - group.start;
      this.heldRecords += group.records.length;
      if (purpose === 'drop' || group.records.length === 0) {
        this.finish(group, 'dropped');
      } else {
        this.waiting.push(group);
      }
    }
    this.trim();
    this.pump();
  }

  private send(group: Group): void {
    group.state = 'wire';
    this.wire++;
    const body =
      group.records.length === 1
        ? group.records[0]!.payload
        : Buffer.concat(group.records.map((r) => r.payload));
    void postBatch(this.url, body, {
      headers: this.headers,
      timeoutMs: this.timeoutMs,
      signal: this.abort.signal,
    }).then((outcome) => this.settled(group, outcome));
  }

  private settled(group: Group, outcome: ForwardOutcome): void {
    this.wire--;
    if (this.closed || outcome.kind === 'aborted') {
      this.notifyChange();
      return;
    }
    if (outcome.kind === 'sent') {
      this.counts.sentBatches += group.records.length;
      this.counts.sentRequests++;
      this.lastSuccessAt = Date.now();
      this.reachable();
      this.finish(group, 'sent');
    } else if (
      outcome.kind === 'rejected' &&
      SPLIT_STATUSES.has(outcome.status) &&
      group.records.length > 1
    ) {
      // Too large for this upstream, or one batch in it is malformed for it: the same batches
      // in two requests of half the size, until the batch refused is alone.
      this.reachable();
      this.split(group);
    } else if (outcome.kind === 'rejected') {
      this.counts.rejectedBatches += group.records.length;
      this.lastError = outcome.error;
      if (!this.loggedRejections.has(outcome.status)) {
        this.loggedRejections.add(outcome.status);
        this.log?.warn(
          `forwarding to ${this.url}: ${outcome.error}; such batches are not retried ` +
            `(counted as rejectedBatches in /api/health)`,
        );
      }
      this.reachable();
      this.finish(group, 'rejected');
    } else {
      this.counts.failedAttempts++;
      this.lastError = outcome.error;
      group.state = 'waiting';
      insertByStart(this.waiting, group);
      this.failed(outcome.retryAfterMs);
    }
    this.trim();
    this.pump();
  }

  private split(group: Group): void {
    const mid = Math.floor(group.records.length / 2);
    const cut = group.records[mid]!.start;
    const halves: Group[] = [
      { start: group.start, end: cut, records: group.records.slice(0, mid), state: 'waiting' },
      { start: cut, end: group.end, records: group.records.slice(mid), state: 'waiting' },
    ];
    this.outstanding.splice(this.outstanding.indexOf(group), 1, ...halves);
    for (const h of halves) insertByStart(this.waiting, h);
  }

  /** A group is done: out of the pending counts; the cursor moves past the done prefix. */
  private finish(group: Group, how: 'sent' | 'rejected' | 'dropped'): void {
    if (how === 'dropped') {
      this.counts.droppedBatches += group.records.length;
      for (const r of group.records) this.counts.droppedBytes += r.payload.length;
      if (group.records.length > 0) this.noteDrop(`more than ${mib(this.maxPendingBytes)} pending`);
    }
    group.state = 'done';
    this.heldBytes -= group.end - group.start;
    this.heldRecords -= group.records.length;
    // Done groups can wait behind one in flight for a while: keep their positions, not their bytes.
    group.records = [];
    let cursor: number | undefined;
    while (this.outstanding.length > 0 && this.outstanding[0]!.state === 'done') {
      cursor = this.outstanding.shift()!.end;
    }
    if (cursor !== undefined) this.source.commit(cursor);
    if (this.isIdle()) this.dropEpisode = false;
    this.notifyChange();
  }

  // --- failures, outage and recovery -----------------------------------------------------------

  private failed(retryAfterMs: number | undefined): void {
    const now = Date.now();
    this.failingSince ??= now;
    if (this.downSince === undefined && now - this.failingSince >= this.downAfterMs) {
      this.downSince = this.failingSince;
      this.droppedAtOutageStart = this.counts.droppedBatches;
      const s = this.status();
      const where =
        this.mode === 'log'
          ? `kept in the span log (up to ${mib(this.maxPendingBytes)}) until it is back`
          : `held in memory (up to ${mib(this.maxPendingBytes)}, then the oldest are dropped)`;
      this.log?.warn(
        `forwarding to ${this.url}: upstream unavailable (${this.lastError}); ` +
          `${s.pendingRecords} batches (${mib(s.pendingBytes)}) pending, ${where}`,
      );
    }
    if (this.backoffTimer !== undefined) return;
    this.attempt++;
    const delay =
      retryAfterMs !== undefined
        ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)
        : backoffDelay(this.attempt, this.minBackoffMs, this.maxBackoffMs);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.pump();
    }, delay);
    this.backoffTimer.unref();
  }

  /** The upstream answered (2xx, or a 4xx that is not about being busy): not an outage. */
  private reachable(): void {
    if (this.downSince !== undefined) {
      const s = this.status();
      const dropped = this.counts.droppedBatches - this.droppedAtOutageStart;
      this.log?.info(
        `forwarding to ${this.url}: upstream back after ${seconds(Date.now() - this.downSince)}` +
          `${dropped > 0 ? ` (${dropped} batches dropped meanwhile)` : ''}; ` +
          `sending ${s.pendingRecords} pending batches (${mib(s.pendingBytes)})`,
      );
    }
    this.failingSince = undefined;
    this.downSince = undefined;
    this.attempt = 0;
  }

  private noteDrop(why: string): void {
    if (this.dropEpisode) return;
    this.dropEpisode = true;
    this.log?.warn(
      `forwarding to ${this.url}: dropping the oldest pending batches (${why}); ` +
        `counted as droppedBatches in /api/health`,
    );
  }

  private readFailed(e: unknown): void {
    if (this.closed) return;
    const message = `reading the span log: ${(e as Error).message}`;
    this.lastError = message;
    if (this.loggedReadError !== message) {
      this.loggedReadError = message;
      this.log?.warn(`forwarding to ${this.url}: ${message}; trying again`);
    }
    this.readTimer ??= setTimeout(() => {
      this.readTimer = undefined;
      this.trim();
      this.pump();
    }, READ_RETRY_MS);
    this.readTimer.unref();
    this.notifyChange();
  }

  // --- the budget ------------------------------------------------------------------------------

  /**
   * Keeps what is pending within `maxPendingBytes` by dropping the oldest first: groups waiting
   * for a retry, then unread batches. Groups on the wire are not dropped (at most `concurrency`).
   */
  private trim(): void {
    if (this.closed) return;
    while (this.pendingBytes > this.maxPendingBytes && this.waiting.length > 0) {
      this.finish(this.waiting.shift()!, 'dropped');
    }
    while (
      this.pendingBytes > this.maxPendingBytes &&
      this.source.unreadBytes > 0 &&
      !this.trimming &&
      this.readTimer === undefined
    ) {
      const excess = this.pendingBytes - this.maxPendingBytes;
      const taken = this.source.take(Math.min(excess, TRIM_READ_BYTES));
      if (taken instanceof Promise) {
        this.trimming = true;
        taken.then(
          (chunk) => {
            this.trimming = false;
            this.received(chunk, 'drop');
          },
          (e: unknown) => {
            this.trimming = false;
            this.readFailed(e);
          },
        );
        return;
      }
      if (taken === undefined) return;
      this.received(taken, 'drop');
    }
  }

  // --- waiting for changes ---------------------------------------------------------------------

  private notifyChange(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }

  private nextChange(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.changeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (timeoutMs !== undefined) timer = setTimeout(resolve, Math.max(0, timeoutMs));
    });
  }

  private async waitUntil(done: () => boolean, deadline: number): Promise<void> {
    while (!done() && Date.now() < deadline) await this.nextChange(deadline - Date.now());
  }
}

function insertByStart(list: Group[], group: Group): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.start > group.start) i--;
  list.splice(i, 0, group);
}

function isoOrNull(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function mib(bytes: number): string {
  return bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}
