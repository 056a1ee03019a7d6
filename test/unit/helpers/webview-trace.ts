/**
 * Small hand-built `TracePayload`s and span details for the webview's unit tests (model, state,
 * effects).
 */

import { SpanFlag, type SpanDetails, type TracePayload } from '../../../src/protocol/messages.js';

export interface SpanRow {
  name: string;
  service: string;
  /** Index of the parent in the list, -1 for a root. */
  parent: number;
  start: number;
  duration: number;
  flags?: number;
  criticalMs?: number;
  kind?: number;
}

/**
 * A payload from rows given in pre-order DFS order (the protocol's invariant: a parent before
 * its children, a subtree contiguous). Depths follow from the parents; names and services are
 * interned in order of first use.
 */
export function payloadOf(
  rows: readonly SpanRow[],
  o: { traceId?: string; version?: number } = {},
): TracePayload {
  const names: string[] = [];
  const services: string[] = [];
  const intern = (list: string[], s: string): number => {
    const i = list.indexOf(s);
    return i >= 0 ? i : list.push(s) - 1;
  };
  const depth: number[] = [];
  rows.forEach((r, i) => {
    if (r.parent >= i) throw new Error(`row ${i}: its parent must come before it`);
    depth.push(r.parent < 0 ? 0 : (depth[r.parent] as number) + 1);
  });
  const durationMs = Math.max(1, ...rows.map((r) => r.start + r.duration));
  return {
    traceId: o.traceId ?? 'ab'.repeat(16),
    version: o.version ?? 1,
    startMs: 0,
    durationMs,
    spanCount: rows.length,
    parent: Int32Array.from(rows.map((r) => r.parent)),
    depth: Uint16Array.from(depth),
    start: Float64Array.from(rows.map((r) => r.start)),
    duration: Float64Array.from(rows.map((r) => r.duration)),
    criticalMs: Float64Array.from(rows.map((r) => r.criticalMs ?? 0)),
    selfMs: Float64Array.from(rows.map((r) => r.duration)),
    name: Uint32Array.from(rows.map((r) => intern(names, r.name))),
    names,
    service: Uint32Array.from(rows.map((r) => intern(services, r.service))),
    services,
    kind: Uint8Array.from(rows.map((r) => r.kind ?? 1)),
    flags: Uint8Array.from(rows.map((r) => r.flags ?? 0)),
    criticalPath: new Float64Array(0),
    queueWaits: new Float64Array(0),
    queueNames: [],
    gapMs: 0,
  };
}

/**
 * r(0) ─┬─ a(1) ── a1(2)
 *       ├─ b(3) ─┬─ b1(4, error)
 *       │        └─ b2(5)
 *       └─ c(6, error, critical)
 * orphan(7)
 */
export function tinyTrace(): TracePayload {
  const parent = [-1, 0, 1, 0, 3, 3, 0, -1];
  const depth = [0, 1, 2, 1, 2, 2, 1, 0];
  const names = ['r', 'a', 'a1', 'b', 'b1', 'b2', 'c', 'orphan'];
  const start = [0, 0, 1, 10, 10, 15, 40, 5];
  const duration = [100, 20, 5, 30, 4, 10, 60, 1];
  const flags = [
    SpanFlag.CRITICAL,
    0,
    0,
    0,
    SpanFlag.ERROR,
    0,
    SpanFlag.ERROR | SpanFlag.CRITICAL,
    SpanFlag.ORPHAN,
  ];
  return {
    traceId: 'ab'.repeat(16),
    version: 1,
    startMs: 0,
    durationMs: 100,
    spanCount: 8,
    parent: Int32Array.from(parent),
    depth: Uint16Array.from(depth),
    start: Float64Array.from(start),
    duration: Float64Array.from(duration),
    criticalMs: Float64Array.from([40, 0, 0, 0, 0, 0, 60, 0]),
    selfMs: Float64Array.from(duration),
    name: Uint32Array.from(names.map((_, i) => i)),
    names,
    service: Uint32Array.from([0, 0, 0, 1, 1, 1, 2, 0]),
    services: ['gateway', 'Retriever', 'llm'],
    kind: Uint8Array.from([2, 1, 1, 3, 1, 1, 3, 1]),
    flags: Uint8Array.from(flags),
    criticalPath: Float64Array.from([0, 0, 40, 6, 40, 100]),
    queueWaits: Float64Array.from([1, 6, 20, 40]),
    queueNames: ['q'],
    gapMs: 0,
  };
}

/** The details of the span at `row`, with nothing but its name set (for request answers). */
export function spanDetailsOf(row: number, name: string): SpanDetails {
  return {
    row,
    traceId: 'ab'.repeat(16),
    spanId: String(row).padStart(16, '0'),
    parentSpanId: '',
    name,
    service: 'gateway',
    kind: 1,
    startMs: 0,
    durationMs: 1,
    selfMs: 1,
    criticalMs: 0,
    criticalShare: 0,
    status: { code: 0, message: '' },
    attributes: [],
    resource: [],
    scope: { name: '', version: '' },
    events: [],
    links: [],
  };
}
