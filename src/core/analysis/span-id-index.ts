/**
 * Span id -> span number for the spans of one trace: the one place the analysis looks span ids
 * up. Everything after it works on numbers.
 *
 * Why not a `Map<string, number>`: filling one with a million span ids took ~0.45 s and a
 * million lookups ~0.25 s (measured on the 2-core benchmark machine: the table grows and
 * rehashes, and every probe chases a pointer to the key string), which alone was a third of the
 * 1M-span budget from store to first paint. OTLP span ids are 8 bytes that the decoder writes as
 * 16 lowercase hex digits, so here they are parsed into two int32 and kept in one open-addressing
 * table of int32 triples, allocated once at twice the span count: no rehash, no garbage, one
 * cache line per probe. A trace with any other id (hand-written test ids, a malformed exporter)
 * uses a Map instead, for all of its ids, so lookups never depend on which path was taken.
 */

import type { SpanRecord } from '../model.js';

/** Span id -> number, numbers 0 .. size - 1 in first-seen order of the ids. */
export interface SpanIdIndex {
  /** Number of distinct ids. */
  readonly size: number;
  /** The number of a span id, or -1 when no span of the trace has it. */
  get(spanId: string): number;
}

export interface IndexedSpans {
  readonly index: SpanIdIndex;
  /**
   * Per number, the position in the input of the record that carries it: the last one received
   * when the id was duplicated (a re-export carries the newest data).
   */
  readonly lastPosition: Int32Array;
}

/** Numbers the distinct span ids of `spans` in first-seen order. */
export function indexSpanIds(spans: readonly SpanRecord[]): IndexedSpans {
  return hexIndex(spans) ?? mapIndex(spans);
}

// Hex digit values by char code, -1 for anything else (upper case included: the decoder writes
// lower case, and an id in upper case must not equal its lower-case spelling).
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[97 + c] = 10 + c;

// The two halves of the last id parsed by `parse` (module state: no allocation per id).
let parsedHi = 0;
let parsedLo = 0;

/** Parses 16 lowercase hex digits into `parsedHi`/`parsedLo`; false for any other string. */
function parse(id: string): boolean {
  if (id.length !== 16) return false;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 8; i++) {
    const c = id.charCodeAt(i);
    const v = c < 128 ? (HEX[c] as number) : -1;
    if (v < 0) return false;
    hi = (hi << 4) | v;
  }
  for (let i = 8; i < 16; i++) {
    const c = id.charCodeAt(i);
    const v = c < 128 ? (HEX[c] as number) : -1;
    if (v < 0) return false;
    lo = (lo << 4) | v;
  }
  parsedHi = hi;
  parsedLo = lo;
  return true;
}

/** A 32-bit mix of both halves (murmur3's finalizer), so patterned ids do not cluster. */
function hash(hi: number, lo: number): number {
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Open addressing with linear probing over `table`, triples (hi, lo, number); number -1 marks an
 * empty slot. Invariant: at most half of the slots are used, so every probe sequence ends.
 */
class HexSpanIdIndex implements SpanIdIndex {
  constructor(
    private readonly table: Int32Array,
    private readonly mask: number,
    readonly size: number,
  ) {}

  get(spanId: string): number {
    // Every id in the table parsed, so one that does not parse is not in it.
    if (!parse(spanId)) return -1;
    const hi = parsedHi;
    const lo = parsedLo;
    const t = this.table;
    for (let slot = hash(hi, lo) & this.mask; ; slot = (slot + 1) & this.mask) {
      const b = slot * 3;
      const v = t[b + 2] as number;
      if (v === -1) return -1;
      if (t[b] === hi && t[b + 1] === lo) return v;
    }
  }
}

function hexIndex(spans: readonly SpanRecord[]): IndexedSpans | undefined {
  const m = spans.length;
  let slots = 16;
  while (slots < 2 * m) slots *= 2;
  const mask = slots - 1;
  const table = new Int32Array(slots * 3).fill(-1);
  const lastPosition = new Int32Array(m);
  let size = 0;
  for (let i = 0; i < m; i++) {
    if (!parse((spans[i] as SpanRecord).spanId)) return undefined;
    const hi = parsedHi;
    const lo = parsedLo;
    for (let slot = hash(hi, lo) & mask; ; slot = (slot + 1) & mask) {
      const b = slot * 3;
      const v = table[b + 2] as number;
      if (v === -1) {
        table[b] = hi;
        table[b + 1] = lo;
        table[b + 2] = size;
        lastPosition[size++] = i;
        break;
      }
      if (table[b] === hi && table[b + 1] === lo) {
        lastPosition[v] = i;
        break;
      }
    }
  }
  return {
    index: new HexSpanIdIndex(table, mask, size),
    lastPosition: size === m ? lastPosition : lastPosition.slice(0, size),
  };
}

class MapSpanIdIndex implements SpanIdIndex {
  constructor(private readonly ids: ReadonlyMap<string, number>) {}

  get size(): number {
    return this.ids.size;
  }

  get(spanId: string): number {
    return this.ids.get(spanId) ?? -1;
  }
}

function mapIndex(spans: readonly SpanRecord[]): IndexedSpans {
  const ids = new Map<string, number>();
  const lastPosition = new Int32Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const id = (spans[i] as SpanRecord).spanId;
    let u = ids.get(id);
    if (u === undefined) ids.set(id, (u = ids.size));
    lastPosition[u] = i;
  }
  return { index: new MapSpanIdIndex(ids), lastPosition: lastPosition.slice(0, ids.size) };
}
