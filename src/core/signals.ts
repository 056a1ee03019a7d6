/**
 * The receiver's logs and metrics: for each signal, its ingest sink (protobuf and JSON, partial
 * success), its store, bounded within the receiver's memory budget, and its persistence log
 * (with `dataDir`: a sibling of the span log, `logs.log` and `metrics.log`, in the same
 * checksummed format, replayed at start and rewritten to what is held when it grows well past
 * it). The engine owns one `Signals`; the transports only see the sinks.
 */
import path from 'node:path';
import type { IngestOutcome, SignalSink, Transport } from './receiver/ingest.js';
import { DecodeCache } from './otlp/trace-request-decoder.js';
import { decodeLogsRequest, type LogRecordEntry } from './otlp/logs-request-decoder.js';
import {
  decodeMetricsRequest,
  DEFAULT_METRIC_LIMITS,
  type MetricPoint,
} from './otlp/metrics-request-decoder.js';
import { otlpLogsJsonToProtobuf, otlpMetricsJsonToProtobuf } from './otlp/otlp-json-request.js';
import { logsToProtobuf, metricsToProtobuf } from './otlp/signal-export.js';
import { LogStore } from './store/log-store.js';
import { MetricStore } from './store/metric-store.js';
import { SpanLog } from './store/span-log.js';
import type { Logger } from './logger.js';
import { formatCount } from '../shared/format.js';

export const LOGS_FILE_NAME = 'logs.log';
export const METRICS_FILE_NAME = 'metrics.log';

/** Logs and metrics together may hold at most this share of the memory budget. */
export const SIGNALS_SHARE = 0.25;
/** Of that share, the logs' part (the rest is the metrics'). */
const LOGS_PART = 0.75;
/** A persistence log is rewritten once it is this many times what its store holds (and 8 MiB). */
const COMPACT_FACTOR = 3;
const COMPACT_MIN_BYTES = 8 * 1024 * 1024;
const COMPACT_CHUNK = 2048;

export interface SignalCounters {
  received: number;
  accepted: number;
  rejected: number;
  failedRequests: number;
  persistErrors: number;
}

/** What a signal's store must offer its channel. */
export interface ChannelStore<T> {
  add(items: readonly T[]): void;
  evictTo(maxBytes: number): void;
  clear(): void;
  readonly bytes: number;
  readonly count: number;
  items(): Iterable<T>;
}

interface ChannelSpec<T> {
  /** "log record", "data point": counted nouns in messages. */
  noun: string;
  decode(bytes: Uint8Array): { items: T[]; rejected: number; rejectReasons: string[] };
  fromJson(body: Uint8Array): Uint8Array;
  encode(items: readonly T[]): Uint8Array;
}

/** One signal: sink, store, persistence. */
export class SignalChannel<T> implements SignalSink {
  readonly counters: SignalCounters = {
    received: 0,
    accepted: 0,
    rejected: 0,
    failedRequests: 0,
    persistErrors: 0,
  };
  /** Bytes the store may hold; set by the engine from the budget. */
  maxBytes: number;
  private log: SpanLog | undefined;

  constructor(
    readonly store: ChannelStore<T>,
    private readonly spec: ChannelSpec<T>,
    maxBytes: number,
    private readonly logger?: Logger,
    /** Called after items were accepted (the diagnoses read them). */
    private readonly onAccepted?: () => void,
  ) {
    this.maxBytes = maxBytes;
  }

  /** Opens (and replays) the persistence log at `file`. */
  openLog(file: string): void {
    const { log, report } = SpanLog.open(file, {
      onRecord: (payload) => this.store.add(this.spec.decode(payload).items),
    });
    this.log = log;
    this.store.evictTo(this.maxBytes);
    for (const c of report.corrupt) {
      this.logger?.warn(
        `persistence log ${file}: skipped ${c.length} corrupt bytes at offset ${c.offset} (${c.reason})`,
      );
    }
  }

  ingestProtobuf(bytes: Uint8Array, _transport: Transport): IngestOutcome {
    let decoded;
    try {
      decoded = this.spec.decode(bytes);
    } catch (e) {
      this.counters.failedRequests++;
      throw e;
    }
    const n = decoded.items.length;
    this.counters.received += n + decoded.rejected;
    this.counters.rejected += decoded.rejected;
    this.counters.accepted += n;
    if (n > 0) {
      this.store.add(decoded.items);
      this.store.evictTo(this.maxBytes);
      this.persist(bytes);
      this.onAccepted?.();
    }
    return {
      accepted: n,
      rejected: decoded.rejected,
      errorMessage:
        decoded.rejected > 0
          ? `${formatCount(decoded.rejected, this.spec.noun)} rejected: ${decoded.rejectReasons.join('; ')}`
          : '',
    };
  }

  ingestJson(body: Uint8Array, transport: Transport): IngestOutcome {
    let bytes: Uint8Array;
    try {
      bytes = this.spec.fromJson(body);
    } catch (e) {
      this.counters.failedRequests++;
      throw e;
    }
    return this.ingestProtobuf(bytes, transport);
  }

  /** Drops the oldest items until the store is within `maxBytes`. */
  fit(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.store.evictTo(maxBytes);
  }

  private persist(bytes: Uint8Array): void {
    const log = this.log;
    if (log === undefined) return;
    try {
      log.append(bytes);
      if (log.sizeBytes > Math.max(COMPACT_MIN_BYTES, COMPACT_FACTOR * this.store.bytes)) {
        this.compact();
      }
    } catch (e) {
      this.counters.persistErrors++;
      if (this.counters.persistErrors === 1 || this.counters.persistErrors % 1000 === 0) {
        this.logger?.error(
          `persistence log: ${(e as Error).message} (${this.spec.noun}s are still received and held in memory)`,
        );
      }
    }
  }

  /** Rewrites the persistence log to exactly what the store holds. */
  compact(): void {
    this.log?.rewrite(this.chunks());
  }

  private *chunks(): Iterable<Uint8Array> {
    let chunk: T[] = [];
    for (const item of this.store.items()) {
      chunk.push(item);
      if (chunk.length >= COMPACT_CHUNK) {
        yield this.spec.encode(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) yield this.spec.encode(chunk);
  }

  clear(): void {
    this.store.clear();
    this.log?.rewrite([]);
  }

  close(): void {
    if (this.log !== undefined && this.log.sizeBytes > 1.5 * this.store.bytes + 1024 * 1024) {
      try {
        this.compact();
      } catch (e) {
        this.logger?.warn(`persistence log: compaction at close failed: ${(e as Error).message}`);
      }
    }
    this.log?.close();
    this.log = undefined;
  }
}

export interface SignalsOptions {
  /** Bytes logs and metrics may hold together (default: their share of 512 MiB). */
  maxBytes: number;
  /** Folder of the persistence logs; none: memory only. */
  dataDir?: string;
  /** Resources and scopes shared with the spans'. */
  cache?: DecodeCache;
  log?: Logger;
  /** Called after log records or data points were accepted. */
  onAccepted?: () => void;
}

export class Signals {
  readonly logs: SignalChannel<LogRecordEntry>;
  readonly metrics: SignalChannel<MetricPoint>;
  readonly logStore = new LogStore({ maxBytes: Number.MAX_SAFE_INTEGER });
  readonly metricStore = new MetricStore({ maxBytes: Number.MAX_SAFE_INTEGER });

  constructor(opts: SignalsOptions) {
    const cache = opts.cache ?? new DecodeCache();
    this.logs = new SignalChannel<LogRecordEntry>(
      this.logStore,
      {
        noun: 'log record',
        decode: (b) => {
          const d = decodeLogsRequest(b, cache);
          return { items: d.records, rejected: d.rejected, rejectReasons: d.rejectReasons };
        },
        fromJson: otlpLogsJsonToProtobuf,
        encode: logsToProtobuf,
      },
      opts.maxBytes * LOGS_PART,
      opts.log,
      opts.onAccepted,
    );
    this.metrics = new SignalChannel<MetricPoint>(
      this.metricStore,
      {
        noun: 'data point',
        decode: (b) => {
          const d = decodeMetricsRequest(b, cache, DEFAULT_METRIC_LIMITS);
          return { items: d.points, rejected: d.rejected, rejectReasons: d.rejectReasons };
        },
        fromJson: otlpMetricsJsonToProtobuf,
        encode: metricsToProtobuf,
      },
      opts.maxBytes * (1 - LOGS_PART),
      opts.log,
      opts.onAccepted,
    );
    if (opts.dataDir !== undefined) {
      this.logs.openLog(path.join(opts.dataDir, LOGS_FILE_NAME));
      this.metrics.openLog(path.join(opts.dataDir, METRICS_FILE_NAME));
    }
  }

  /** Bytes held by logs and metrics, against the budget. */
  get bytes(): number {
    return this.logStore.bytes + this.metricStore.bytes;
  }

  /** Fits both stores within `maxBytes` together, each in its part. */
  fit(maxBytes: number): void {
    this.logs.fit(maxBytes * LOGS_PART);
    this.metrics.fit(maxBytes * (1 - LOGS_PART));
  }

  clear(): void {
    this.logs.clear();
    this.metrics.clear();
  }

  close(): void {
    this.logs.close();
    this.metrics.close();
  }
}
