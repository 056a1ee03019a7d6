/**
 * The Logs view's rows: the log records that carry no span context (those written inside a
 * span are read with their span), newest first, filtered by severity, service and text, each
 * linked to the trace that was active on its service when it was written, when there is one.
 *
 * "Active" is the store's trace that has spans of that service and whose [start, end] contains
 * the record's time; of several, the shortest (the request the line most likely belongs to),
 * then the latest start. No trace context means this is a guess, and the view says so ("active
 * then"). The index is built from the traces' extents and service lists, not their spans: one
 * step per trace and service, so a refresh stays cheap with a million spans held.
 */

import type { LogRecordEntry } from '../otlp/logs-request-decoder.js';
import {
  logValueText,
  parseSeverity,
  severityLevel,
  SEVERITY_LEVELS,
  type LogQuery,
  type LogStore,
} from '../store/log-store.js';
import { formatCount } from '../../shared/format.js';

/** What the index needs of a trace (a `TraceEntry` is one). */
export interface ActiveTraceSource {
  readonly traceId: string;
  readonly startMs: number;
  readonly endMs: number;
  /** The services with spans in it. */
  readonly services: readonly string[];
}

interface ServiceExtents {
  /** By start: [start, end] of the traces with spans of the service, and their ids. */
  starts: number[];
  ends: number[];
  ids: string[];
  /** Longest extent: no extent starting before `time - maxLen` can contain `time`. */
  maxLen: number;
}

/** Per service, the extents of the traces it has spans in, for "which trace was running at t". */
export class ActiveTraceIndex {
  private constructor(private readonly byService: Map<string, ServiceExtents>) {}

  /**
   * One pass over the traces; the index is a snapshot (build one per refresh). With `only`,
   * just those services are indexed (the ones the rows shown name).
   */
  static build(traces: Iterable<ActiveTraceSource>, only?: ReadonlySet<string>): ActiveTraceIndex {
    const rows = new Map<string, Array<[number, number, string]>>();
    for (const t of traces) {
      if (!Number.isFinite(t.startMs) || !Number.isFinite(t.endMs) || t.endMs < t.startMs) continue;
      for (const service of t.services) {
        if (only !== undefined && !only.has(service)) continue;
        let list = rows.get(service);
        if (list === undefined) rows.set(service, (list = []));
        // A service named twice in one trace's list is indexed once.
        if (list[list.length - 1]?.[2] !== t.traceId) list.push([t.startMs, t.endMs, t.traceId]);
      }
    }
    const byService = new Map<string, ServiceExtents>();
    for (const [service, list] of rows) {
      list.sort((a, b) => a[0] - b[0]);
      let maxLen = 0;
      for (const [s, e] of list) maxLen = Math.max(maxLen, e - s);
      byService.set(service, {
        starts: list.map((r) => r[0]),
        ends: list.map((r) => r[1]),
        ids: list.map((r) => r[2]),
        maxLen,
      });
    }
    return new ActiveTraceIndex(byService);
  }

  /** The trace active on `service` at `timeMs` (see the module comment); undefined when none. */
  at(service: string, timeMs: number): string | undefined {
    const x = this.byService.get(service);
    if (x === undefined || !Number.isFinite(timeMs)) return undefined;
    // The last extent starting at or before `timeMs`.
    let lo = 0;
    let hi = x.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x.starts[mid]! <= timeMs) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    for (let i = lo - 1; i >= 0 && x.starts[i]! >= timeMs - x.maxLen; i--) {
      if (x.ends[i]! < timeMs) continue;
      // Walking back, starts only get earlier: a tie in length keeps the later start.
      if (best < 0 || x.ends[i]! - x.starts[i]! < x.ends[best]! - x.starts[best]!) best = i;
    }
    return best < 0 ? undefined : x.ids[best];
  }
}

/** The view's filter, as typed: `severity:warn service:reranker timeout`. */
export interface LogsFilter {
  readonly text: string;
  /** The query it makes (always only records without a span context). */
  readonly query: LogQuery;
  /** Why a part of the text was not understood; the rest still filters. */
  readonly error?: string;
}

/**
 * Parses the filter text: `severity:LEVEL` (or `level:`; a level name or 1-24: that level and
 * above), `service:NAME`, and the remaining words as text to find in the body, severity or an
 * attribute value.
 */
export function parseLogsFilter(text: string): LogsFilter {
  const words: string[] = [];
  let minSeverity: number | undefined;
  let service: string | undefined;
  let error: string | undefined;
  for (const word of text.trim().split(/\s+/)) {
    if (word === '') continue;
    const m = /^(severity|level|service):(.*)$/i.exec(word);
    if (m === null) {
      words.push(word);
      continue;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === 'service') {
      if (value !== '') service = value;
      continue;
    }
    const n = parseSeverity(value);
    if (n === undefined) {
      error = `unknown severity "${value}": use ${SEVERITY_LEVELS.map((l) => l.toLowerCase()).join(', ')} or 1-24`;
    } else minSeverity = n;
  }
  const query: LogQuery = {
    withoutSpan: true,
    ...(minSeverity !== undefined ? { minSeverity } : {}),
    ...(service !== undefined ? { service } : {}),
    ...(words.length > 0 ? { text: words.join(' ') } : {}),
  };
  return { text: text.trim(), query, ...(error !== undefined ? { error } : {}) };
}

/** One row of the view. */
export interface LogsViewRow {
  readonly record: LogRecordEntry;
  /** The trace active on the record's service at its time, if any. */
  readonly traceId: string | undefined;
  /** The body on one line, shortened. */
  readonly label: string;
  /** Level (or the record's severity text) and service. */
  readonly description: string;
  /** "ERROR" ... "TRACE", '' when unspecified: the icon the view shows. */
  readonly level: string;
}

/** Longest body shown on a row (the tooltip has it whole). */
const LABEL_CHARS = 200;
/** Rows shown at most: the view is for the latest lines. */
export const LOGS_VIEW_LIMIT = 500;

/** A body as one line of a list. */
export function oneLine(text: string, max = LABEL_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The rows for `filter`, newest arrival first, at most `limit`, each linked to a trace of
 * `traces` (indexed for the rows' services only).
 */
export function logsViewRows(
  logs: Pick<LogStore, 'query'>,
  traces: Iterable<ActiveTraceSource>,
  filter: LogsFilter,
  limit = LOGS_VIEW_LIMIT,
): LogsViewRow[] {
  const records = logs.query({ ...filter.query, withoutSpan: true, limit });
  if (records.length === 0) return [];
  const index = ActiveTraceIndex.build(traces, new Set(records.map((r) => r.resource.serviceName)));
  return records.map((r) => {
    const level = severityLevel(r.severityNumber);
    const severity = r.severityText !== '' ? r.severityText : level;
    const body = oneLine(logValueText(r.body));
    return {
      record: r,
      traceId: index.at(r.resource.serviceName, r.timeMs),
      label: body === '' ? (r.eventName !== '' ? r.eventName : '(no body)') : body,
      description: [severity, r.resource.serviceName].filter((s) => s !== '').join(' · '),
      level,
    };
  });
}

/** The line above the list: why it is empty, or what the filter left. */
export function logsViewMessage(opts: {
  running: boolean;
  shown: number;
  filter: LogsFilter;
}): string {
  if (opts.filter.error !== undefined) return `Filter: ${opts.filter.error}`;
  if (!opts.running) return 'The receiver is not running.';
  if (opts.shown === 0) {
    return opts.filter.text === ''
      ? 'Log records without a trace context appear here (those written inside a span are listed with their span). Send OTLP logs to the receiver, or run the demo.'
      : `No log record without a span context matches "${opts.filter.text}".`;
  }
  return opts.filter.text === ''
    ? ''
    : `${formatCount(opts.shown, 'log record')} matching "${opts.filter.text}"`;
}
