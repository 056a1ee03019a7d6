/**
 * The read API, served on the OTLP/HTTP port:
 *   GET /api/health
 *   GET /api/traces?service=&name=&minDurationMs=&error=&limit=
 *   GET /api/traces/{traceId}                  (OTLP JSON, importable by other OTLP tools)
 *   GET /api/traces/{traceId}/critical-path
 *   GET /api/traces/{traceId}/explain          (stages against the typical trace)
 *   GET /api/stats                             (the per-stage table)
 *   GET /api/insights                          (diagnoses, most important first; what-ifs)
 *   GET /api/insights/sampling?headRatio=&keepErrors=&latencyMs=
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TraceEngine } from '../engine.js';
import type { TraceFilter } from '../store/trace-store.js';
import type { SamplingPolicy } from '../analysis/insights.js';
import { spansToOtlpJson, stringifyOtlpJson } from '../otlp/export.js';
import { sendError, sendJson, type RouteHandler } from '../receiver/http-receiver.js';

const TRACE_ID = /^[0-9a-fA-F]{32}$/;

export class BadQueryError extends Error {}

/** Parses the trace list query; throws `BadQueryError` naming the bad parameter. */
export function parseTraceFilter(q: URLSearchParams): TraceFilter {
  const f: TraceFilter = {};
  const service = q.get('service');
  if (service) f.service = service;
  const name = q.get('name');
  if (name) f.name = name;
  const minDuration = q.get('minDurationMs');
  if (minDuration !== null && minDuration !== '') {
    const n = Number(minDuration);
    if (!Number.isFinite(n) || n < 0) {
      throw new BadQueryError(`minDurationMs must be a non-negative number, got "${minDuration}"`);
    }
    f.minDurationMs = n;
  }
  const error = q.get('error');
  if (error !== null && error !== '') {
    if (error !== 'true' && error !== 'false') {
      throw new BadQueryError(`error must be true or false, got "${error}"`);
    }
    f.error = error === 'true';
  }
  const limit = q.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) {
      throw new BadQueryError(`limit must be an integer from 1 to 10000, got "${limit}"`);
    }
    f.limit = n;
  }
  return f;
}

/** Parses `?headRatio=0.1&keepErrors=true&latencyMs=2000` for the sampling what-if. */
export function parseSamplingPolicy(q: URLSearchParams): SamplingPolicy {
  const ratio = Number(q.get('headRatio') ?? '0.1');
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new BadQueryError(`headRatio must be a number from 0 to 1, got "${q.get('headRatio')}"`);
  }
  const keep = q.get('keepErrors') ?? 'true';
  if (keep !== 'true' && keep !== 'false') {
    throw new BadQueryError(`keepErrors must be true or false, got "${keep}"`);
  }
  const latency = q.get('latencyMs');
  let latencyThresholdMs: number | undefined;
  if (latency !== null && latency !== '') {
    latencyThresholdMs = Number(latency);
    if (!Number.isFinite(latencyThresholdMs) || latencyThresholdMs < 0) {
      throw new BadQueryError(`latencyMs must be a non-negative number, got "${latency}"`);
    }
  }
  return { headRatio: ratio, keepErrors: keep === 'true', latencyThresholdMs };
}

export interface ReadApiInfo {
  version: string;
  startedAt: number;
  endpoints: () => Record<string, string>;
}

export function createReadApi(engine: TraceEngine, info: ReadApiInfo): RouteHandler {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'api') return false;
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET');
      sendError(res, 405, `method ${req.method} not allowed on ${url.pathname}; use GET`);
      return true;
    }
    const route = parts.slice(1);
    if (route.length === 1 && route[0] === 'health') {
      const store = engine.store;
      sendJson(res, 200, {
        status: 'ok',
        version: info.version,
        uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000),
        endpoints: info.endpoints(),
        spans: store.spanCount,
        traces: store.traceCount,
        maxSpans: store.maxSpans,
        spansPerSecond: Math.round(engine.spansPerSecond),
        evicted: store.evicted,
        counters: engine.counters,
        // null when not forwarding; otherwise its state, what is pending and what was lost.
        forwarder: engine.forwarder?.status() ?? null,
      });
      return true;
    }
    if (route.length === 1 && route[0] === 'insights') {
      sendJson(res, 200, engine.insights());
      return true;
    }
    if (route.length === 2 && route[0] === 'insights' && route[1] === 'sampling') {
      try {
        sendJson(res, 200, engine.samplingWhatIf(parseSamplingPolicy(url.searchParams)));
      } catch (e) {
        if (!(e instanceof BadQueryError)) throw e;
        sendError(res, 400, e.message);
      }
      return true;
    }
    if (route.length === 1 && route[0] === 'stats') {
      sendJson(res, 200, { stages: engine.stats.snapshot() });
      return true;
    }
    if (route[0] === 'traces' && route.length === 1) {
      try {
        sendJson(res, 200, { traces: engine.store.list(parseTraceFilter(url.searchParams)) });
      } catch (e) {
        if (!(e instanceof BadQueryError)) throw e;
        sendError(res, 400, e.message);
      }
      return true;
    }
    if (route[0] === 'traces' && (route.length === 2 || route.length === 3)) {
      const id = route[1]!;
      if (!TRACE_ID.test(id)) {
        sendError(res, 400, `trace id must be 32 hex characters, got "${id.slice(0, 64)}"`);
        return true;
      }
      const trace = engine.store.get(id);
      if (trace === undefined) {
        sendError(res, 404, `trace ${id.toLowerCase()} not found (never received, or evicted)`);
        return true;
      }
      if (route.length === 2) {
        // OTLP JSON writes non-finite doubles as strings, which JSON.stringify alone cannot.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(stringifyOtlpJson(spansToOtlpJson(trace.spans)));
        return true;
      }
      if (route[2] === 'critical-path') {
        sendJson(res, 200, criticalPathJson(engine, id));
        return true;
      }
      if (route[2] === 'explain') {
        sendJson(res, 200, { traceId: id.toLowerCase(), stages: engine.explain(id) ?? [] });
        return true;
      }
    }
    sendError(res, 404, `no route for GET ${url.pathname}`);
    return true;
  };
}

function criticalPathJson(engine: TraceEngine, traceId: string) {
  const a = engine.analyze(traceId)!;
  const cp = a.criticalPath;
  const byId = a.tree.byId;
  const describe = (spanId: string | null) => {
    const s = spanId === null ? undefined : byId.get(spanId);
    return { name: s?.name ?? null, service: s?.serviceName ?? null };
  };
  return {
    traceId: traceId.toLowerCase(),
    startMs: cp.startMs,
    durationMs: cp.durationMs,
    gapMs: cp.gapMs,
    segments: cp.segments.map((seg) => ({
      spanId: seg.spanId,
      ...describe(seg.spanId),
      startMs: seg.startMs,
      endMs: seg.endMs,
      durationMs: seg.endMs - seg.startMs,
    })),
    spans: [...cp.bySpan.entries()]
      .map(([spanId, onPathMs]) => ({
        spanId,
        ...describe(spanId),
        onPathMs,
        share: cp.durationMs > 0 ? onPathMs / cp.durationMs : 0,
        selfMs: a.selfTimes.get(spanId) ?? 0,
      }))
      .sort((x, y) => y.onPathMs - x.onPathMs),
  };
}
