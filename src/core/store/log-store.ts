/**
 * The received log records: in arrival order, bounded in bytes and in count (the oldest go
 * first), indexed by trace so that a trace's or a span's log lines are found without a scan.
 * Queries that are not by trace (the Logs view: by service, severity, text, time) scan from the
 * newest and stop at `limit`.
 */
import type { AnyValueJson } from '../model.js';
import type { LogRecordEntry } from '../otlp/logs-request-decoder.js';
import { logTextMatches } from '../../shared/log-match.js';

export interface LogStoreOptions {
  /** Bytes the records may hold (their `bytes`, plus the trace index). */
  maxBytes: number;
  /** Records kept at most. */
  maxRecords: number;
}

export const DEFAULT_LOG_STORE_OPTIONS: LogStoreOptions = {
  maxBytes: 64 * 1024 * 1024,
  maxRecords: 200_000,
};

/** A trace's entry in the index: a Map entry and its array. */
const TRACE_INDEX_BYTES = 96;

export interface LogQuery {
  service?: string;
  /** Lowest severity number kept (e.g. 13 = WARN and above). */
  minSeverity?: number;
  /** Case-insensitive text found in the body, the severity text or an attribute value. */
  text?: string;
  /** Only records at or after this time (ms). */
  sinceMs?: number;
  /** Only records without a span context (the Logs view's own lines). */
  withoutSpan?: boolean;
  /** Most records returned (newest first); default 200. */
  limit?: number;
}

/** A body or attribute value as the text a user searches and reads. */
export function logValueText(v: AnyValueJson | undefined): string {
  if (v === undefined) return '';
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return v.intValue;
  if ('doubleValue' in v) return String(v.doubleValue);
  if ('boolValue' in v) return String(v.boolValue);
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v) return `[${v.arrayValue.values.map(logValueText).join(', ')}]`;
  if ('kvlistValue' in v) {
    return `{${v.kvlistValue.values.map((kv) => `${kv.key}: ${logValueText(kv.value)}`).join(', ')}}`;
  }
  return '';
}

/** The texts of a record that a text search looks in (see `logTextMatches`). */
export function logRecordTexts(record: LogRecordEntry): string[] {
  return [
    logValueText(record.body),
    record.severityText,
    record.eventName,
    ...record.attributes.map((kv) => logValueText(kv.value)),
  ];
}

/** Whether `record` matches `q` (all but the limit). */
export function logMatches(record: LogRecordEntry, q: LogQuery): boolean {
  if (q.service !== undefined && record.resource.serviceName !== q.service) return false;
  if (q.minSeverity !== undefined && record.severityNumber < q.minSeverity) return false;
  if (q.sinceMs !== undefined && record.timeMs < q.sinceMs) return false;
  if (q.withoutSpan === true && record.spanId !== '') return false;
  if (q.text !== undefined && !logTextMatches(logRecordTexts(record), q.text)) return false;
  return true;
}

export class LogStore {
  private readonly opts: LogStoreOptions;
  /** Arrival order; [head, length) are live. */
  private records: LogRecordEntry[] = [];
  private head = 0;
  private readonly byTrace = new Map<string, LogRecordEntry[]>();
  private heldBytes = 0;
  /** Records evicted for room since the start. */
  evicted = 0;

  constructor(opts: Partial<LogStoreOptions> = {}) {
    this.opts = { ...DEFAULT_LOG_STORE_OPTIONS, ...opts };
    if (!(this.opts.maxBytes > 0) || !(this.opts.maxRecords > 0)) {
      throw new RangeError('LogStore limits must be positive');
    }
  }

  get count(): number {
    return this.records.length - this.head;
  }

  /** Bytes held against the budget. */
  get bytes(): number {
    return this.heldBytes;
  }

  add(records: readonly LogRecordEntry[]): void {
    for (const r of records) {
      this.records.push(r);
      this.heldBytes += r.bytes;
      if (r.traceId !== '') {
        let list = this.byTrace.get(r.traceId);
        if (list === undefined) {
          list = [];
          this.byTrace.set(r.traceId, list);
          this.heldBytes += TRACE_INDEX_BYTES;
        }
        list.push(r);
      }
    }
    this.evictTo(this.opts.maxBytes, this.opts.maxRecords);
  }

  /** Drops the oldest records until at most `maxBytes` and `maxRecords` are held. */
  evictTo(maxBytes: number, maxRecords = this.opts.maxRecords): void {
    while (this.count > 0 && (this.heldBytes > maxBytes || this.count > maxRecords)) {
      const r = this.records[this.head] as LogRecordEntry;
      this.records[this.head] = undefined as unknown as LogRecordEntry;
      this.head++;
      this.heldBytes -= r.bytes;
      this.evicted++;
      if (r.traceId !== '') {
        const list = this.byTrace.get(r.traceId);
        // The trace's oldest record is the first of its list: both are in arrival order.
        if (list !== undefined) {
          if (list[0] === r) list.shift();
          else list.splice(list.indexOf(r), 1);
          if (list.length === 0) {
            this.byTrace.delete(r.traceId);
            this.heldBytes -= TRACE_INDEX_BYTES;
          }
        }
      }
    }
    // Compact once the dead prefix is the larger part, so the array cannot grow without bound.
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  /** Every record held, oldest first. */
  *items(): Iterable<LogRecordEntry> {
    for (let i = this.head; i < this.records.length; i++) yield this.records[i] as LogRecordEntry;
  }

  /** A trace's records (of one span when `spanId` is given), by time. */
  forTrace(traceId: string, spanId?: string): LogRecordEntry[] {
    const list = this.byTrace.get(traceId) ?? [];
    const out = spanId === undefined ? [...list] : list.filter((r) => r.spanId === spanId);
    return out.sort((a, b) => a.timeMs - b.timeMs);
  }

  /** How many records of a trace are held: O(1), for a view that watches one trace. */
  countFor(traceId: string): number {
    return this.byTrace.get(traceId)?.length ?? 0;
  }

  /** How many records each span of a trace has (for the marks on the waterfall's bars). */
  countsBySpan(traceId: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.byTrace.get(traceId) ?? []) {
      if (r.spanId !== '') counts.set(r.spanId, (counts.get(r.spanId) ?? 0) + 1);
    }
    return counts;
  }

  /** Records matching `q`, newest arrival first, at most `q.limit`. */
  query(q: LogQuery = {}): LogRecordEntry[] {
    const limit = q.limit ?? 200;
    const out: LogRecordEntry[] = [];
    for (let i = this.records.length - 1; i >= this.head && out.length < limit; i--) {
      const r = this.records[i] as LogRecordEntry;
      if (logMatches(r, q)) out.push(r);
    }
    return out;
  }

  clear(): void {
    this.records = [];
    this.head = 0;
    this.byTrace.clear();
    this.heldBytes = 0;
  }
}

// The severity rules are shared with the webview's search (`level:warn`).
export { parseSeverity, SEVERITY_LEVELS, severityLevel } from '../../shared/log-match.js';
