/**
 * The read API of the logs and metrics:
 *   GET /api/traces/{traceId}/logs?spanId=&severity=&q=      a trace's log records, by time
 *   GET /api/logs?service=&severity=&q=&since=&limit=&withoutSpan=
 *                                                            the latest records
 *   GET /api/metrics                                         the metrics held, per service
 *                                                            and name
 *   GET /api/metrics?name=&service=&since=&until=            a metric's series and points
 * `severity` is a level name (`warn`: WARN and above) or a number; `since` and `until` are
 * epoch milliseconds or a duration before now (`15m`, `1h`, `30s`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteHandler } from '../http/route-handler.js';
import { sendError, sendJson } from '../http/responses.js';
import type { Signals } from '../signals.js';
import type { LogRecordEntry } from '../otlp/logs-request-decoder.js';
import type { MetricPoint } from '../otlp/metrics-request-decoder.js';
import { logMatches, parseSeverity, severityLevel, type LogQuery } from '../store/log-store.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const MAX_LIMIT = 5000;

class BadSignalQuery extends Error {}

/** The JSON of a log record in the read API. */
export function logRecordJson(r: LogRecordEntry) {
  return {
    timeUnixNano: r.timeUnixNano,
    observedTimeUnixNano: r.observedTimeUnixNano,
    timeMs: r.timeMs,
    severityNumber: r.severityNumber,
    severityText: r.severityText || severityLevel(r.severityNumber),
    body: r.body ?? null,
    attributes: r.attributes,
    traceId: r.traceId,
    spanId: r.spanId,
    eventName: r.eventName,
    service: r.resource.serviceName,
    scope: r.scope.name,
  };
}

function pointJson(p: MetricPoint) {
  return {
    timeMs: p.timeMs,
    startTimeMs: p.startTimeMs,
    ...(p.value !== undefined ? { value: p.value } : {}),
    ...(p.histogram !== undefined ? { histogram: p.histogram } : {}),
    exemplars: p.exemplars,
  };
}

/** Epoch ms, or a duration before `now` ("15m", "2h", "30s", "500ms"). */
export function parseTimeParam(text: string, name: string, now = Date.now()): number {
  const t = text.trim();
  if (/^\d{1,16}$/.test(t)) return Number(t);
  const m = /^(\d{1,9}(?:\.\d+)?)(ms|s|m|h|d)$/.exec(t);
  if (m === null) {
    throw new BadSignalQuery(
      `${name} must be epoch milliseconds or a duration such as 15m or 1h, got "${text.slice(0, 40)}"`,
    );
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as string] ?? 1;
  return now - Number(m[1]) * unit;
}

function logQuery(q: URLSearchParams): LogQuery {
  const out: LogQuery = {};
  const severity = q.get('severity');
  if (severity !== null && severity !== '') {
    const n = parseSeverity(severity);
    if (n === undefined) {
      throw new BadSignalQuery(
        `severity must be trace, debug, info, warn, error, fatal or 0-24, got "${severity.slice(0, 40)}"`,
      );
    }
    out.minSeverity = n;
  }
  const text = q.get('q');
  if (text !== null && text !== '') out.text = text.slice(0, 1000);
  const service = q.get('service');
  if (service !== null && service !== '') out.service = service;
  const since = q.get('since');
  if (since !== null && since !== '') out.sinceMs = parseTimeParam(since, 'since');
  if (q.get('withoutSpan') === 'true') out.withoutSpan = true;
  const limit = q.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
      throw new BadSignalQuery(
        `limit must be an integer from 1 to ${MAX_LIMIT}, got "${limit.slice(0, 40)}"`,
      );
    }
    out.limit = n;
  }
  return out;
}

export function createSignalRoutes(signals: Signals): RouteHandler {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'api') return false;
    const route = parts.slice(1);
    const traceLogs = route.length === 3 && route[0] === 'traces' && route[2] === 'logs';
    const isOurs =
      traceLogs || (route.length === 1 && (route[0] === 'logs' || route[0] === 'metrics'));
    if (!isOurs) return false;
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET');
      sendError(res, 405, `method ${req.method} not allowed on ${url.pathname}; use GET`);
      return true;
    }
    const q = url.searchParams;
    try {
      if (traceLogs) {
        const traceId = (route[1] as string).toLowerCase();
        if (!TRACE_ID.test(traceId)) {
          sendError(res, 400, 'trace id must be 32 hex digits');
          return true;
        }
        const spanId = q.get('spanId')?.toLowerCase();
        if (spanId !== undefined && spanId !== '' && !SPAN_ID.test(spanId)) {
          sendError(res, 400, 'spanId must be 16 hex digits');
          return true;
        }
        const filter = logQuery(q);
        const records = signals.logStore
          .forTrace(traceId, spanId === '' ? undefined : spanId)
          .filter((r) => logMatches(r, filter));
        sendJson(res, 200, { traceId, logs: records.map(logRecordJson) });
      } else if (route[0] === 'logs') {
        sendJson(res, 200, { logs: signals.logStore.query(logQuery(q)).map(logRecordJson) });
      } else {
        const name = q.get('name');
        if (name === null || name === '') {
          sendJson(res, 200, { metrics: signals.metricStore.list() });
          return true;
        }
        const since = q.get('since');
        const until = q.get('until');
        const series = signals.metricStore.query({
          name,
          ...(q.get('service') ? { service: q.get('service') as string } : {}),
          ...(since ? { sinceMs: parseTimeParam(since, 'since') } : {}),
          ...(until ? { untilMs: parseTimeParam(until, 'until') } : {}),
        });
        sendJson(res, 200, {
          name,
          series: series.map(({ series: s, points }) => ({
            service: s.service,
            unit: s.unit,
            kind: s.kind,
            attributes: s.attributes,
            points: points.map(pointJson),
          })),
        });
      }
    } catch (e) {
      if (!(e instanceof BadSignalQuery)) throw e;
      sendError(res, 400, e.message);
    }
    return true;
  };
}
