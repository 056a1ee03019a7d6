/**
 * Pulling traces from a team backend into the local analysis: the backend's OTLP/JSON answer is
 * split into one OTLP/JSON request per trace, each resource marked with where it came from
 * (`origin.ts`), and handed to a sink: the engine in-process (the editor) or a running receiver's
 * /v1/traces (the command line). Transform, then transport: `splitByTrace` is pure.
 *
 * One request per trace keeps a trace too large for the receiver apart from the others: it is
 * refused alone, with its size, and nothing of it is stored.
 */
import { SOURCE_ATTRIBUTE } from './origin.js';
import type { IngestSink } from '../receiver/ingest.js';
import {
  BackendError,
  type JaegerClient,
  type OtlpJsonTraces,
  type TraceQuery,
} from './jaeger-client.js';

/** One trace, ready to ingest. */
export interface PulledTrace {
  readonly traceId: string;
  readonly spanCount: number;
  /** OTLP/JSON `ExportTraceServiceRequest`, UTF-8 (empty when `problem` is set). */
  readonly body: Uint8Array;
  /** Why the trace cannot be ingested at all; it is then reported, not sent. */
  readonly problem?: string;
}

/** What a sink did with one trace (OTLP partial success). */
export interface SinkOutcome {
  accepted: number;
  rejected: number;
  errorMessage: string;
}

export type PullSink = (trace: PulledTrace) => Promise<SinkOutcome>;

export interface PullReport {
  readonly source: string;
  /** Traces stored, in the backend's order. */
  readonly traces: ReadonlyArray<{ traceId: string; spans: number; rejected: number }>;
  /** Traces not stored, and why. */
  readonly failed: ReadonlyArray<{ traceId: string; message: string }>;
  readonly acceptedSpans: number;
  readonly rejectedSpans: number;
}

/** The receiver's default largest request (16 MiB): a trace over it is refused before sending. */
export const DEFAULT_MAX_TRACE_BYTES = 16 * 1024 * 1024;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(path: string, problem: string): BackendError {
  return new BackendError('malformed', `the backend's answer: ${path}: ${problem}`);
}

/** The resource with the source mark (replacing a mark it may already carry). */
function markResource(resource: unknown, source: string, path: string): Json {
  if (resource !== undefined && resource !== null && !isObject(resource)) {
    throw malformed(path, 'not an object');
  }
  const r = (resource ?? {}) as Json;
  const attrs = r.attributes ?? [];
  if (!Array.isArray(attrs)) throw malformed(`${path}.attributes`, 'not a list');
  return {
    ...r,
    attributes: [
      ...attrs.filter((kv) => !(isObject(kv) && kv.key === SOURCE_ATTRIBUTE)),
      { key: SOURCE_ATTRIBUTE, value: { stringValue: source } },
    ],
  };
}

/**
 * Splits OTLP/JSON traces into one marked request per trace id, in order of first appearance.
 * Throws BackendError `malformed` when the nesting is not OTLP's; what is inside a span is left
 * to the receiver's decoder, which refuses bad spans one by one.
 */
export function splitByTrace(doc: OtlpJsonTraces, source: string): PulledTrace[] {
  // trace id -> resource index -> scope index -> spans
  const byTrace = new Map<
    string,
    Map<
      number,
      {
        resource: Json;
        schemaUrl: unknown;
        scopes: Map<number, { scope: unknown; schemaUrl: unknown; spans: unknown[] }>;
      }
    >
  >();
  doc.resourceSpans.forEach((rs, i) => {
    const path = `resourceSpans[${i}]`;
    if (!isObject(rs)) throw malformed(path, 'not an object');
    const scopeSpans = rs.scopeSpans ?? [];
    if (!Array.isArray(scopeSpans)) throw malformed(`${path}.scopeSpans`, 'not a list');
    let resource: Json | undefined;
    scopeSpans.forEach((ss, j) => {
      const spath = `${path}.scopeSpans[${j}]`;
      if (!isObject(ss)) throw malformed(spath, 'not an object');
      const spans = ss.spans ?? [];
      if (!Array.isArray(spans)) throw malformed(`${spath}.spans`, 'not a list');
      spans.forEach((span, k) => {
        if (!isObject(span) || typeof span.traceId !== 'string') {
          throw malformed(`${spath}.spans[${k}]`, 'a span without a traceId string');
        }
        const id = span.traceId.toLowerCase();
        let resources = byTrace.get(id);
        if (resources === undefined) byTrace.set(id, (resources = new Map()));
        let r = resources.get(i);
        if (r === undefined) {
          resource ??= markResource(rs.resource, source, `${path}.resource`);
          resources.set(i, (r = { resource, schemaUrl: rs.schemaUrl, scopes: new Map() }));
        }
        let s = r.scopes.get(j);
        if (s === undefined)
          r.scopes.set(j, (s = { scope: ss.scope, schemaUrl: ss.schemaUrl, spans: [] }));
        s.spans.push(span);
      });
    });
  });
  const out: PulledTrace[] = [];
  for (const [traceId, resources] of byTrace) {
    let spanCount = 0;
    const resourceSpans = [...resources.values()].map((r) => ({
      resource: r.resource,
      ...(r.schemaUrl === undefined ? {} : { schemaUrl: r.schemaUrl }),
      scopeSpans: [...r.scopes.values()].map((s) => {
        spanCount += s.spans.length;
        return {
          ...(s.scope === undefined ? {} : { scope: s.scope }),
          ...(s.schemaUrl === undefined ? {} : { schemaUrl: s.schemaUrl }),
          spans: s.spans,
        };
      }),
    }));
    let body: string;
    try {
      body = JSON.stringify({ resourceSpans });
    } catch (e) {
      // JSON.parse reads nesting of any depth, but JSON.stringify recurses: a value nested
      // hundreds of thousands deep (far past what the store accepts) overflows the stack.
      if (!(e instanceof RangeError)) throw e;
      out.push({
        traceId,
        spanCount,
        body: new Uint8Array(0),
        problem: 'its attribute values are nested too deeply; not stored',
      });
      continue;
    }
    out.push({ traceId, spanCount, body: Buffer.from(body) });
  }
  return out;
}

/** A sink that ingests in-process (the editor's receiver): the same decoder and limits as HTTP. */
export function ingestSink(engine: IngestSink): PullSink {
  return (trace) => Promise.resolve(engine.ingestJson(trace.body, 'http'));
}

/** Hands each trace to the sink; a trace over `maxTraceBytes` or refused is reported, not thrown. */
export async function ingestPulled(
  traces: readonly PulledTrace[],
  source: string,
  sink: PullSink,
  maxTraceBytes = DEFAULT_MAX_TRACE_BYTES,
): Promise<PullReport> {
  const stored: Array<{ traceId: string; spans: number; rejected: number }> = [];
  const failed: Array<{ traceId: string; message: string }> = [];
  let acceptedSpans = 0;
  let rejectedSpans = 0;
  for (const t of traces) {
    if (t.problem !== undefined) {
      failed.push({ traceId: t.traceId, message: t.problem });
      continue;
    }
    if (t.body.byteLength > maxTraceBytes) {
      const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
      failed.push({
        traceId: t.traceId,
        message: `too large: ${mib(t.body.byteLength)} of OTLP/JSON, over the limit of ${mib(maxTraceBytes)}; not stored`,
      });
      continue;
    }
    let outcome: SinkOutcome;
    try {
      outcome = await sink(t);
    } catch (e) {
      failed.push({ traceId: t.traceId, message: (e as Error).message });
      continue;
    }
    acceptedSpans += outcome.accepted;
    rejectedSpans += outcome.rejected;
    if (outcome.accepted > 0)
      stored.push({ traceId: t.traceId, spans: outcome.accepted, rejected: outcome.rejected });
    else failed.push({ traceId: t.traceId, message: outcome.errorMessage || 'no span accepted' });
  }
  return { source, traces: stored, failed, acceptedSpans, rejectedSpans };
}

/** Finds traces in the backend and ingests each, marked with the backend's URL. */
export async function pullTraces(
  client: JaegerClient,
  query: TraceQuery,
  sink: PullSink,
  maxTraceBytes?: number,
): Promise<PullReport> {
  const doc = await client.findTraces(query);
  return ingestPulled(splitByTrace(doc, client.label), client.label, sink, maxTraceBytes);
}

/** Fetches one trace from the backend and ingests it, marked. */
export async function pullTrace(
  client: JaegerClient,
  traceId: string,
  sink: PullSink,
  maxTraceBytes?: number,
): Promise<PullReport> {
  const doc = await client.getTrace(traceId);
  return ingestPulled(splitByTrace(doc, client.label), client.label, sink, maxTraceBytes);
}

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "500ms", "2s", "1.5m", "1h", "7d" in milliseconds. Hand-written: five units and one regex,
 * where a library would accept spellings ("2 hours", "1y") the help does not promise. Throws
 * RangeError naming what was given.
 */
export function parseDurationMs(text: string, what: string): number {
  const m = DURATION.exec(text.trim());
  const ms = m === null ? NaN : Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(
      `${what} must be a positive duration such as 500ms, 2s, 5m, 1h or 7d, got "${text.slice(0, 80)}"`,
    );
  }
  return ms;
}
