/**
 * The columnar analysis (tree, clock skew, critical path, self time, queue waits, remote calls,
 * stage contributions, payload) against the object-per-span implementation it replaced, kept
 * verbatim under helpers/reference-analysis/, on many random traces: every result, and every
 * iteration order, must be the same.
 *
 * The traces have what real ones have and what broken exporters add: several processes with
 * clocks off by 1-500 ms, sync and async children, queues (by kind and by attributes), links,
 * duplicates, orphans, cycles, spans that end before they start, equal start times. They are
 * built twice: as hand-made records with short ids (the Map-backed id index) and as OTLP JSON
 * through the real decoder (16-hex ids, attributes in the span bytes, source attributes).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { analyzeTrace, type TraceAnalysis } from '../../src/core/analysis/analyze-trace.js';
import type { AttributeGetter } from '../../src/core/analysis/queue-waits.js';
import { buildTraceFacts } from '../../src/core/analysis/trace-facts.js';
import {
  buildTracePayload,
  payloadRows,
  type PayloadRows,
} from '../../src/core/api/trace-payload.js';
import type { TracePayload } from '../../src/protocol/messages.js';
import { SpanKind, SpanRecord, StatusCode } from '../../src/core/model.js';
import { otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { attributeValue, forEachScalarAttribute } from '../../src/core/otlp/span-details.js';
import { decodeTraceRequest } from '../../src/core/otlp/trace-request-decoder.js';
import type { TraceEntry } from '../../src/core/store/trace-store.js';
import { seededRandom } from './helpers/random.js';
import {
  analyzeTrace as referenceAnalyzeTrace,
  type TraceAnalysis as ReferenceAnalysis,
} from './helpers/reference-analysis/analyze-trace.js';
import { buildTracePayload as referencePayload } from './helpers/reference-analysis/trace-payload.js';
import { attributesFrom, makeSpan, type SpanSpec } from './helpers/spans.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const T0 = 1_750_000_000_000;

interface GenSpan {
  /** Index into the id list (a repeated index is a duplicate record). */
  id: number;
  /** Index of the parent's id, 'missing' for an absent parent, undefined for a root. */
  parent?: number | 'missing';
  links: (number | 'foreign')[];
  process: number;
  kind: number;
  start: number;
  end: number;
  error: boolean;
  attributes: Record<string, string>;
}

interface Gen {
  spans: GenSpan[];
  processes: { service: string; instance?: string }[];
  ids: number;
}

const MESSAGING_OPS = ['publish', 'send', 'create', 'receive', 'process', 'deliver', 'settle'];

function generate(seed: number): Gen {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const processCount = 1 + Math.floor(r() * 5);
  const services = ['gateway', 'embedder', 'reranker', 'generator'];
  const processes = Array.from({ length: processCount }, (_, i) => ({
    service: pick(services),
    // Two processes of one service told apart by instance, or not at all (one process).
    ...(r() < 0.6 ? { instance: `i${i % 3}` } : {}),
  }));
  // Each process's clock: right, or off by 1-500 ms either way.
  const offset = processes.map(() => (r() < 0.4 ? 0 : (r() < 0.5 ? -1 : 1) * (1 + r() * 499)));
  const fractional = r() < 0.6;
  const time = (x: number): number => (fractional ? Math.round(x * 1000) / 1000 : Math.round(x));
  const n = 1 + Math.floor(r() * 80);
  const spans: GenSpan[] = [];
  // True (unskewed) times, for nesting children inside parents before the clocks are applied.
  const trueStart: number[] = [];
  const trueEnd: number[] = [];
  for (let i = 0; i < n; i++) {
    const roll = r();
    const p = i > 0 ? Math.floor(r() * i) : -1;
    const process =
      p >= 0 && r() < 0.6 ? (spans[p] as GenSpan).process : Math.floor(r() * processCount);
    let s: number;
    let e: number;
    if (p < 0 || roll < 0.1) {
      s = r() * 1000;
      e = s + r() * 300;
    } else {
      const ps = trueStart[p] as number;
      const pe = trueEnd[p] as number;
      s = ps + r() * Math.max(0, pe - ps);
      e = r() < 0.15 ? s + r() * 400 : s + r() * Math.max(0, pe - s);
      // Equal starts among siblings, to exercise the tie on span ids.
      if (r() < 0.1) s = ps;
    }
    trueStart.push(s);
    trueEnd.push(e);
    const off = offset[process] as number;
    let start = time(s + off);
    let end = time(e + off);
    if (r() < 0.03) end = start - 5; // ends before it starts
    if (r() < 0.02) end = start; // empty
    const span: GenSpan = {
      id: i,
      links: [],
      process,
      kind: Math.floor(r() * 6),
      start,
      end,
      error: r() < 0.1,
      attributes: {},
    };
    if (p >= 0 && roll >= 0.1 && roll < 0.85) span.parent = p;
    else if (roll >= 0.85 && roll < 0.9) span.parent = 'missing';
    else if (roll >= 0.9 && roll < 0.93 && n > 1) span.parent = Math.floor(r() * n); // maybe a cycle
    if (i > 0 && r() < 0.15) span.links.push(Math.floor(r() * n));
    if (r() < 0.05) span.links.push('foreign');
    if (r() < 0.2) span.attributes['messaging.operation.type'] = pick(MESSAGING_OPS);
    else if (r() < 0.1) span.attributes['messaging.operation'] = pick(MESSAGING_OPS).toUpperCase();
    if (r() < 0.15) span.attributes['messaging.destination.name'] = pick(['q1', 'q2', '']);
    if (r() < 0.1) span.attributes['messaging.destination'] = pick(['legacy-q', 'q2']);
    if (r() < 0.1) span.attributes['code.file.path'] = pick(['/src/a.py', '']);
    if (r() < 0.05) span.attributes['code.filepath'] = 'old.py';
    if (r() < 0.05) span.attributes['note'] = 'mentions code.file.path in a value';
    if (r() < 0.05 && i > 0) {
      span.id = Math.floor(r() * i); // a duplicate record of an earlier span
      start = time(start + 1);
    }
    spans.push(span);
  }
  // Arrival order is not tree order.
  for (let i = spans.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [spans[i], spans[j]] = [spans[j] as GenSpan, spans[i] as GenSpan];
  }
  return { spans, processes, ids: n };
}

/** As hand-made records: short ids, one resource per service, attributes from a table. */
function asRecords(g: Gen): { spans: SpanRecord[]; getter: AttributeGetter } {
  const id = (i: number): string => `s${i}`;
  const table: Record<string, Record<string, string>> = {};
  const spans = g.spans.map((s) => {
    table[id(s.id)] = s.attributes;
    const spec: SpanSpec = {
      spanId: id(s.id),
      service: (g.processes[s.process] as { service: string }).service,
      start: s.start,
      end: s.end,
      kind: s.kind,
      name: `op${s.kind}`,
      status: s.error ? StatusCode.ERROR : StatusCode.UNSET,
      links: s.links.map((l) =>
        l === 'foreign'
          ? { traceId: 'other', spanId: id(0) }
          : { traceId: 'trace-1', spanId: id(l) },
      ),
    };
    if (s.parent !== undefined) spec.parent = s.parent === 'missing' ? 'nope' : id(s.parent);
    return makeSpan(spec);
  });
  return { spans, getter: attributesFrom(table) };
}

/** As OTLP JSON through the decoder: 16-hex ids, real resources and attribute bytes. */
function asDecoded(g: Gen, seed: number): SpanRecord[] {
  const r = seededRandom(seed ^ 0x5eed);
  // Random 64-bit ids, as SDKs make them (a few share their upper half).
  const ids = Array.from({ length: g.ids }, () =>
    [r(), r()]
      .map((x) =>
        Math.floor(x * 2 ** 32)
          .toString(16)
          .padStart(8, '0'),
      )
      .join(''),
  );
  const ns = (ms: number): string => {
    const total = BigInt(Math.round((T0 + ms) * 1000)) * 1000n;
    return (total < 0n ? 0n : total).toString();
  };
  const resourceSpans = g.processes.map((p, i) => ({
    resource: {
      attributes: [
        { key: 'service.name', value: { stringValue: p.service } },
        ...(p.instance === undefined
          ? []
          : [{ key: 'service.instance.id', value: { stringValue: p.instance } }]),
      ],
    },
    scopeSpans: [
      {
        scope: { name: 'prop-test' },
        spans: g.spans
          .filter((s) => s.process === i)
          .map((s) => ({
            traceId: TRACE,
            spanId: ids[s.id],
            ...(s.parent === undefined
              ? {}
              : { parentSpanId: s.parent === 'missing' ? 'ffffffffffffffff' : ids[s.parent] }),
            name: `op${s.kind}`,
            kind: s.kind,
            startTimeUnixNano: ns(s.start),
            // The decoder rejects a span that ends before it starts (the records test has them).
            endTimeUnixNano: ns(Math.max(s.start, s.end)),
            attributes: Object.entries(s.attributes).map(([key, v]) => ({
              key,
              value: { stringValue: v },
            })),
            events: [],
            links: s.links.map((l) => ({
              traceId: l === 'foreign' ? 'ab'.repeat(16) : TRACE,
              spanId: ids[l === 'foreign' ? 0 : l],
              attributes: [],
            })),
            status: s.error ? { code: StatusCode.ERROR } : {},
          })),
      },
    ],
  }));
  const batch = decodeTraceRequest(otlpJsonToProtobuf(JSON.stringify({ resourceSpans })));
  assert.equal(batch.rejected, 0);
  return batch.spans;
}

/** A record with another id or parent id (the decoder only makes 16-hex ones). */
function withIds(s: SpanRecord, spanId: string, parentSpanId: string): SpanRecord {
  return new SpanRecord(
    s.traceId,
    spanId,
    parentSpanId,
    s.name,
    s.kind,
    s.startMs,
    s.endMs,
    s.statusCode,
    s.links,
    s.resource,
    s.scope,
    s.raw,
  );
}

const ids = (xs: readonly SpanRecord[]): string[] => xs.map((s) => s.spanId);
const times = (s: SpanRecord | undefined): unknown =>
  s === undefined ? undefined : [s.spanId, s.startMs, s.endMs];

/** Everything the analysis reports, with spans by id and maps as ordered entries. */
function observe(a: TraceAnalysis | ReferenceAnalysis): unknown {
  const t = a.tree;
  const cp = a.criticalPath;
  return {
    traceId: t.traceId,
    spans: t.spans.map(times),
    roots: ids(t.roots),
    byId: [...t.byId].map(([k, s]) => [k, times(s)]),
    startMs: t.startMs,
    endMs: t.endMs,
    counts: [t.duplicateCount, t.orphanCount, t.brokenCycleCount],
    clockShifts: [...t.clockShifts],
    perSpan: t.spans.map((s) => ({
      parent: t.parentOf(s)?.spanId,
      parentById: t.parentOf(s.spanId)?.spanId,
      children: ids(t.children(s.spanId)),
      adopted: t.isAdopted(s.spanId),
      depth: t.depthOf(s.spanId),
      shift: t.clockShiftOf(s.spanId),
      share: cp.shareOf(s.spanId),
    })),
    unknown: [t.children('nope'), t.depthOf('nope'), t.parentOf('nope'), cp.shareOf('nope')],
    segments: cp.segments,
    bySpan: [...cp.bySpan],
    path: [cp.startMs, cp.endMs, cp.durationMs, cp.gapMs],
    selfTimes: [...a.selfTimes],
    inclusive: [...a.inclusivePath],
    queueWaits: a.queueWaits.map((w) => ({
      ...w,
      producer: w.producer.spanId,
      consumer: w.consumer.spanId,
    })),
    calls: a.remoteCalls.calls.map((c) => ({
      ...c,
      caller: c.caller.spanId,
      callee: c.callee.spanId,
    })),
    waitOnPath: [...a.remoteCalls.waitOnPathBySpan],
    stageContributions: [...a.stageContributions],
    stages: [...a.stages],
  };
}

/**
 * A payload in the tree's row order, without the placeholder rows for missing parents, names and
 * services as strings: the reference predates the placeholders (trace-payload.test.ts tests
 * them), and moving a group of orphans under one changes the interning order, not the spans.
 * `rows` maps the payload to the tree; without it the payload is already in tree order.
 */
function inTreeOrder(p: TracePayload, rows?: PayloadRows) {
  const toTree = (r: number): number => (r < 0 || rows === undefined ? r : rows.treeRow[r]!);
  const out = [];
  const n = rows === undefined ? p.spanCount : rows.payloadRow.length;
  for (let t = 0; t < n; t++) {
    const r = rows === undefined ? t : rows.payloadRow[t]!;
    out.push({
      parent: toTree(p.parent[r]!),
      depth: p.depth[r]! - (rows?.lifted[r] ?? 0),
      start: p.start[r],
      duration: p.duration[r],
      criticalMs: p.criticalMs[r],
      selfMs: p.selfMs[r],
      name: p.names[p.name[r]!],
      service: p.services[p.service[r]!],
      kind: p.kind[r],
      flags: p.flags[r],
    });
  }
  const mapped = (xs: Float64Array, width: number, rowsAt: number[]) =>
    Array.from(xs, (x, i) => (rowsAt.includes(i % width) ? toTree(x) : x));
  return {
    traceId: p.traceId,
    version: p.version,
    startMs: p.startMs,
    durationMs: p.durationMs,
    rows: out,
    criticalPath: mapped(p.criticalPath, 3, [0]),
    queueWaits: mapped(p.queueWaits, 4, [0, 1]),
    queueNames: p.queueNames,
    gapMs: p.gapMs,
  };
}

const entry = { traceId: TRACE, version: 3 } as TraceEntry;
const readers = {
  scalarAttributes: (s: SpanRecord, cb: (key: string, value: string) => void) => {
    if (s.raw.length > 0) forEachScalarAttribute(s, cb);
  },
  errorMessage: () => undefined,
};

function check(spans: readonly SpanRecord[], getter: AttributeGetter, msg: string): void {
  const a = analyzeTrace(spans, getter);
  const ref = referenceAnalyzeTrace(spans, getter);
  assert.deepStrictEqual(observe(a), observe(ref), msg);
  // The payload the webview gets, and the facts the diagnoses read.
  assert.deepStrictEqual(
    inTreeOrder(buildTracePayload(entry, a), payloadRows(a.tree)),
    inTreeOrder(referencePayload(entry, ref as unknown as Parameters<typeof referencePayload>[1])),
    `${msg}: payload`,
  );
  const facts = (x: TraceAnalysis) => {
    const f = buildTraceFacts(entry, x, readers);
    return { ...f, spans: f.spans.map(times) };
  };
  assert.deepStrictEqual(facts(a), facts(ref as unknown as TraceAnalysis), `${msg}: facts`);
}

describe('columnar analysis = reference implementation', () => {
  it('on 1,500 random traces of hand-made records (short ids)', () => {
    for (let seed = 1; seed <= 1_500; seed++) {
      const { spans, getter } = asRecords(generate(seed));
      check(spans, getter, `records, seed ${seed}`);
    }
  });

  it('on 1,500 random traces through the decoder (hex ids, attribute bytes)', () => {
    for (let seed = 1; seed <= 1_500; seed++) {
      const spans = asDecoded(generate(seed), seed);
      check(spans, attributeValue, `decoded, seed ${seed}`);
    }
  });

  it('when a few ids are not 16 hex digits (a malformed exporter)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const spans = asDecoded(generate(seed), seed);
      const r = seededRandom(seed);
      const k = Math.floor(r() * spans.length);
      const victim = spans[k] as SpanRecord;
      const mixed = spans.map((s, i) => {
        if (i === k) return withIds(s, 'not-hex', s.parentSpanId);
        // Children of the renamed span follow it; an upper-case spelling is another id.
        if (s.parentSpanId === victim.spanId)
          return withIds(s, s.spanId, r() < 0.5 ? 'not-hex' : s.parentSpanId.toUpperCase());
        return s;
      });
      check(mixed, attributeValue, `mixed ids, seed ${seed}`);
    }
  });

  it('on a 3,000-span trace with deep chains and wide fan-out', () => {
    const specs: SpanSpec[] = [{ spanId: 'root', start: 0, end: 10_000, kind: SpanKind.SERVER }];
    for (let i = 0; i < 1_000; i++) {
      specs.push({
        spanId: `c${i}`,
        parent: i === 0 ? 'root' : `c${i - 1}`,
        start: i,
        end: 9_000 - i,
      });
      specs.push({ spanId: `w${i}`, parent: 'root', start: i * 9, end: i * 9 + 12, service: 'w' });
      specs.push({
        spanId: `q${i}`,
        parent: `w${i}`,
        start: i * 9 + 13,
        end: i * 9 + 14,
        kind: SpanKind.CONSUMER,
      });
    }
    check(specs.reverse().map(makeSpan), () => undefined, 'wide and deep');
  });
});
