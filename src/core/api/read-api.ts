/**
 * The read API, served on the OTLP/HTTP port:
 *   GET /api/health
 *   GET /api/traces?service=&name=&minDurationMs=&error=&attribute=&limit=&sort=
 *                                              (latest arrivals first; sort=start: latest starts;
 *                                              attribute=key or key=value: a span or resource
 *                                              attribute whose key and value contain these)
 *   GET /api/traces/{traceId}                  (OTLP JSON, importable by other OTLP tools)
 *   GET /api/traces/{traceId}/critical-path
 *   GET /api/traces/{traceId}/explain          (stages against the typical trace)
 *   GET /api/traces/{traceId}/digest?top=      (critical path by stage, waits, errors, source
 *                                              lines: bounded whatever the trace's size)
 *   GET /api/sources                           (each stage's `code.*` source line)
 *   GET /api/stats                             (the per-stage table; `prod`: the same over
 *                                              the traces pulled from a team backend)
 *   GET /api/insights?fresh=                   (diagnoses of the latest run, most important
 *                                              first; what-ifs. The latest background report,
 *                                              or, with fresh=true, one including every span)
 *   GET /api/insights/sampling?headRatio=&keepErrors=&latencyMs=
 *   GET /api/compare?a=&b=                     (stage by stage: trace b against trace a; or
 *                                              trace=&against=typical|baseline|prod; or
 *                                              against=baseline|prod: the latest run)
 *   GET /api/baseline                          (the baseline, or null)
 *   POST /api/baseline {label, traceIds?, source?} (pin: these traces once analysed, else the
 *                                              latest run; JSON body, so browsers must preflight)
 *   DELETE /api/baseline
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TraceEngine } from '../engine.js';
import type { TraceFilter } from '../store/trace-store.js';
import type { SamplingPolicy } from '../analysis/insights/sampling.js';
import type { BaselineSource } from '../analysis/baseline.js';
import { spansToOtlpJson, stringifyOtlpJson } from '../otlp/export.js';
import { mediaType, sendError, sendJson } from '../http/responses.js';
import type { RouteHandler } from '../http/route-handler.js';
import { findAttribute } from './attribute-search.js';
import { CodeLocationIndex } from '../source/code-locations.js';
import { attributeValue } from '../otlp/span-details.js';
import type { AnyValueJson, SpanRecord } from '../model.js';
import type { TraceSummary } from '../store/trace-store.js';
import type { AttributeTerm } from '../../protocol/messages.js';
import { errorMessage } from '../engine.js';
import { DEFAULT_DIGEST_TOP, MAX_DIGEST_TOP, traceDigest } from '../assistant/trace-digest.js';

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
  const sort = q.get('sort');
  if (sort !== null && sort !== '') {
    if (sort !== 'arrival' && sort !== 'start') {
      throw new BadQueryError(`sort must be arrival or start, got "${sort}"`);
    }
    f.sort = sort;
  }
  const attribute = q.get('attribute');
  if (attribute !== null && attribute !== '') {
    const at = attribute.indexOf('=');
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim();
    const value = at < 0 ? undefined : attribute.slice(at + 1);
    if (key === '' || key.length > 256 || (value?.length ?? 0) > 1024) {
      throw new BadQueryError(
        'attribute must be key or key=value (a key of 1 to 256 characters, a value of at most 1024)',
      );
    }
    const term: AttributeTerm = { key, value: value === '' ? undefined : value, negate: false };
    f.where = (t) => findAttribute(t.spans, term) !== undefined;
  }
  return f;
}

/** The `attribute=` term of a trace query already checked by `parseTraceFilter`. */
function attributeTerm(q: URLSearchParams): AttributeTerm {
  const attribute = q.get('attribute')!;
  const at = attribute.indexOf('=');
  const value = at < 0 ? '' : attribute.slice(at + 1);
  return {
    key: (at < 0 ? attribute : attribute.slice(0, at)).trim(),
    value: value === '' ? undefined : value,
    negate: false,
  };
}

/** An attribute value as text: scalars as they read, arrays and maps as their OTLP JSON. */
function valueText(v: AnyValueJson): string {
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return v.intValue;
  if ('doubleValue' in v) return String(v.doubleValue);
  if ('boolValue' in v) return String(v.boolValue);
  return JSON.stringify(Object.values(v)[0] ?? null);
}

function withMatch(engine: TraceEngine, t: TraceSummary, term: AttributeTerm) {
  const entry = engine.store.get(t.traceId);
  const m = entry === undefined ? undefined : findAttribute(entry.spans, term);
  if (m === undefined) return t;
  const match = {
    spanId: m.span.spanId,
    service: m.span.serviceName,
    name: m.span.name,
    key: m.attribute.key,
    value: valueText(m.attribute.value),
  };
  return { ...t, match };
}

/** An attribute of a span, or undefined when absent or when its bytes do not decode. */
function safeAttribute(span: SpanRecord, key: string): string | number | boolean | undefined {
  try {
    return attributeValue(span, key);
  } catch {
    return undefined;
  }
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

/** Largest body of `POST /api/baseline` (a label and a few hundred trace ids). */
const MAX_BASELINE_BODY = 256 * 1024;
const SOURCES: readonly BaselineSource[] = ['pinned', 'commit', 'warm-up'];

/** Parses the body of `POST /api/baseline`; throws `BadQueryError` naming what is wrong. */
export function parseBaselineRequest(text: string): {
  label: string;
  traceIds?: string[];
  source: BaselineSource;
} {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new BadQueryError(`body is not JSON: ${(e as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadQueryError('body must be a JSON object {"label": ..., "traceIds": [...]}');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.label !== 'string' || b.label.trim() === '' || b.label.length > 200) {
    throw new BadQueryError('label must be a non-empty string of at most 200 characters');
  }
  const source = b.source ?? 'pinned';
  if (typeof source !== 'string' || !(SOURCES as readonly string[]).includes(source)) {
    throw new BadQueryError(`source must be one of ${SOURCES.join(', ')}`);
  }
  if (b.traceIds === undefined) return { label: b.label.trim(), source: source as BaselineSource };
  if (
    !Array.isArray(b.traceIds) ||
    b.traceIds.length === 0 ||
    b.traceIds.length > 1000 ||
    !b.traceIds.every((id) => typeof id === 'string' && TRACE_ID.test(id))
  ) {
    throw new BadQueryError('traceIds must be 1 to 1000 trace ids of 32 hex characters');
  }
  return {
    label: b.label.trim(),
    traceIds: (b.traceIds as string[]).map((id) => id.toLowerCase()),
    source: source as BaselineSource,
  };
}

async function readSmallBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BadQueryError(`body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function baselineRoute(engine: TraceEngine, req: IncomingMessage, res: ServerResponse) {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    sendJson(res, 200, { baseline: engine.baseline ?? null });
    return;
  }
  if (req.method === 'DELETE') {
    req.resume();
    engine.baseline = undefined;
    sendJson(res, 200, { baseline: null });
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    res.setHeader('allow', 'GET, POST, DELETE');
    sendError(res, 405, `method ${req.method} not allowed on /api/baseline`);
    return;
  }
  if (mediaType(req) !== 'application/json') {
    req.resume();
    sendError(res, 415, 'POST /api/baseline takes Content-Type: application/json');
    return;
  }
  try {
    const r = parseBaselineRequest(await readSmallBody(req, MAX_BASELINE_BODY));
    if (r.traceIds !== undefined) {
      engine.pinBaselineFromTraces(r.traceIds, r.label, r.source);
      sendJson(res, 202, { pending: { label: r.label, traces: r.traceIds.length } });
    } else {
      const b = engine.pinBaseline(r.label, r.source);
      if (b === undefined) sendError(res, 409, 'no analysed traces in the latest run to pin');
      else sendJson(res, 200, { baseline: b });
    }
  } catch (e) {
    if (!(e instanceof BadQueryError)) throw e;
    sendError(res, 400, e.message);
  }
}

export function createReadApi(engine: TraceEngine, info: ReadApiInfo): RouteHandler {
  // Fed on each `GET /api/sources` with the spans it has not read yet (see `addTrace`).
  const locations = new CodeLocationIndex();
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'api') return false;
    if (parts.length === 2 && parts[1] === 'baseline') {
      await baselineRoute(engine, req, res);
      return true;
    }
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
        // Bytes held, part by part, against the memory budget (as counted: see memory-budget.ts).
        memory: engine.memory(),
        spansPerSecond: Math.round(engine.spansPerSecond),
        evicted: store.evicted,
        counters: engine.counters,
        // The background analysis's progress (see AnalysisService.counters).
        analysis: engine.analysis.counters,
        // null when not forwarding; otherwise its state, what is pending and what was lost.
        forwarder: engine.forwarder?.status() ?? null,
      });
      return true;
    }
    if (route.length === 1 && route[0] === 'insights') {
      // The background report is at most about a second old; a first or fresh one is computed
      // in slices, so this request waits without holding up ingest.
      const fresh = url.searchParams.get('fresh') === 'true';
      const report =
        !fresh && engine.analysis.report !== undefined
          ? engine.analysis.report
          : await engine.insightsFresh();
      sendJson(res, 200, report);
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
    if (route.length === 1 && route[0] === 'compare') {
      const q = url.searchParams;
      const ids = ['a', 'b', 'trace'].map((k) => q.get(k) ?? undefined);
      const bad = ids.find((id) => id !== undefined && !TRACE_ID.test(id));
      const against = q.get('against') ?? undefined;
      if (bad !== undefined) {
        sendError(res, 400, `trace ids must be 32 hex characters, got "${bad.slice(0, 64)}"`);
      } else if (
        against !== undefined &&
        against !== 'typical' &&
        against !== 'baseline' &&
        against !== 'prod'
      ) {
        sendError(
          res,
          400,
          `against must be typical, baseline or prod, got "${against.slice(0, 64)}"`,
        );
      } else if ((ids[0] === undefined) !== (ids[1] === undefined)) {
        sendError(res, 400, 'give both a and b, or trace and against');
      } else if (ids[0] === undefined && against === undefined) {
        sendError(res, 400, 'give a and b, or against=typical|baseline|prod (with trace=)');
      } else {
        try {
          sendJson(
            res,
            200,
            engine.compare({
              a: ids[0],
              b: ids[1],
              trace: ids[2],
              against: against as 'typical' | 'baseline' | 'prod' | undefined,
            }),
          );
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          sendError(res, /not found/.test(e.message) ? 404 : 409, e.message);
        }
      }
      return true;
    }
    if (route.length === 1 && route[0] === 'sources') {
      for (const t of engine.store.all()) locations.addTrace(t, safeAttribute);
      const sources = locations.primaries().map((l) => ({
        service: l.service,
        name: l.name,
        file: l.file,
        line: l.line,
      }));
      sendJson(res, 200, { sources });
      return true;
    }
    if (route.length === 1 && route[0] === 'stats') {
      sendJson(res, 200, {
        stages: engine.stats.snapshot(),
        prod: engine.pulledStats.snapshot(),
      });
      return true;
    }
    if (route[0] === 'traces' && route.length === 1) {
      try {
        const filter = parseTraceFilter(url.searchParams);
        const traces = engine.store.list(filter);
        const term = filter.where === undefined ? undefined : attributeTerm(url.searchParams);
        sendJson(res, 200, {
          // With attribute=, each trace says which span matched and with what value.
          traces: term === undefined ? traces : traces.map((t) => withMatch(engine, t, term)),
        });
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
      if (route[2] === 'digest') {
        const raw = url.searchParams.get('top');
        const top = raw === null || raw === '' ? DEFAULT_DIGEST_TOP : Number(raw);
        if (!Number.isInteger(top) || top < 1 || top > MAX_DIGEST_TOP) {
          sendError(res, 400, `top must be an integer from 1 to ${MAX_DIGEST_TOP}`);
          return true;
        }
        const a = engine.analyze(id)!;
        sendJson(res, 200, traceDigest(a, { attribute: safeAttribute, errorMessage }, top));
        return true;
      }
      if (route[2] === 'explain') {
        const e = engine.explain(id);
        sendJson(res, 200, { ...e, traceId: id.toLowerCase(), stages: e?.rows ?? [] });
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
