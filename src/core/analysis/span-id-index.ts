/**
 * Span id -> span number for the spans of one trace: the one place the analysis looks span ids
 * up. Everything after it works on numbers.
 *
 * Why not a `Map<string, number>`: filling one with a million span ids took ~0.45 s and a
 * million lookups ~0.25 s (measured on the 2-core benchmark machine: the table grows and
 * rehashes, and every probe chases a pointer to the key string), a third of the 1M-span budget
 * from store to first paint. OTLP span ids are 8 bytes that the decoder writes as 16 lowercase
 * hex digits, so here they are parsed into two int32 and kept in open-addressing tables of
 * int32 triples, allocated once: no rehash and no garbage per entry.
 *
 * A single table of a million ids is 25 MB, and filling it missed the cache on every probe
 * (~0.25 s at 1M). So the ids are first partitioned by the top bits of their hash into tables
 * small enough to stay in the L2 cache (~8k ids each), filled one partition at a time: the
 * fill becomes sequential passes over typed arrays plus probes that hit the cache (~0.1 s at
 * 1M). Lookups probe the partition directly; batching them by partition measured no faster.
 *
 * A trace with any other id (hand-written test ids, a malformed exporter) uses a Map instead,
 * for all of its ids, so that lookups never depend on which path was taken.
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

/** Ids per partition aimed at: 2 slots of 12 bytes each, ~200 KB, fits a 512 KB L2 cache. */
const IDS_PER_PARTITION = 8192;

/**
 * Parsed ids laid out by partition: entry k of partition p is at `start[p] + k`, in input order
 * within a partition; `at[j]` is the input position of entry j.
 */
interface Partitioned {
  readonly start: Int32Array;
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly at: Int32Array;
}

/**
 * Partitions `count` parsed ids (columns `hi`, `lo`) by their hash's top `bits` bits, stably.
 * The hash is recomputed where needed rather than stored: arithmetic is cheaper than 4 MB more
 * per million spans for the GC.
 */
function partition(count: number, bits: number, hi: Int32Array, lo: Int32Array): Partitioned {
  const parts = 1 << bits;
  const shift = 32 - bits;
  const start = new Int32Array(parts + 1);
  const part = (i: number): number =>
    bits === 0 ? 0 : hash(hi[i] as number, lo[i] as number) >>> shift;
  for (let i = 0; i < count; i++) start[part(i) + 1]!++;
  for (let p = 0; p < parts; p++) start[p + 1]! += start[p] as number;
  const total = start[parts] as number;
  const fill = start.slice(0, parts);
  const out = {
    start,
    hi: new Int32Array(total),
    lo: new Int32Array(total),
    at: new Int32Array(total),
  };
  for (let i = 0; i < count; i++) {
    const j = fill[part(i)]!++;
    out.hi[j] = hi[i] as number;
    out.lo[j] = lo[i] as number;
    out.at[j] = i;
  }
  return out;
}

/**
 * One open-addressing table per partition, all in `table` as triples (hi, lo, number); number
 * -1 marks an empty slot. Partition p's slots are `[slotStart[p], slotStart[p + 1])`, a power of
 * two with at most half of them used, so every probe sequence ends; the slot within a partition
 * comes from the hash's low bits, the partition from its top bits.
 */
class HexSpanIdIndex implements SpanIdIndex {
  constructor(
    private readonly bits: number,
    private readonly slotStart: Int32Array,
    private readonly table: Int32Array,
    readonly size: number,
  ) {}

  get(spanId: string): number {
    // Every id in the table parsed, so one that does not parse is not in it.
    if (!parse(spanId)) return -1;
    const hi = parsedHi;
    const lo = parsedLo;
    const h = hash(hi, lo);
    const p = this.bits === 0 ? 0 : h >>> (32 - this.bits);
    return this.probe(p, hi, lo, h);
  }

  /** The number stored for (hi, lo) in partition p, or -1. */
  probe(p: number, hi: number, lo: number, h: number): number {
    const base = this.slotStart[p] as number;
    const mask = (this.slotStart[p + 1] as number) - base - 1;
    const t = this.table;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const b = (base + slot) * 3;
      const v = t[b + 2] as number;
      if (v === -1) return -1;
      if (t[b] === hi && t[b + 1] === lo) return v;
    }
  }
}

function hexIndex(spans: readonly SpanRecord[]): IndexedSpans | undefined {
  const m = spans.length;
  const hi = new Int32Array(m);
  const lo = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    if (!parse((spans[i] as SpanRecord).spanId)) return undefined;
    hi[i] = parsedHi;
    lo[i] = parsedLo;
  }
  let bits = 0;
  while (bits < 16 && m >>> bits > IDS_PER_PARTITION) bits++;
  const parts = 1 << bits;
  const e = partition(m, bits, hi, lo);

  const slotStart = new Int32Array(parts + 1);
  for (let p = 0; p < parts; p++) {
    let slots = 4;
    while (slots < 2 * ((e.start[p + 1] as number) - (e.start[p] as number))) slots *= 2;
    slotStart[p + 1] = (slotStart[p] as number) + slots;
  }
  const table = new Int32Array((slotStart[parts] as number) * 3).fill(-1);
  // Filled with the input position of each id's first record. Records whose id came before
  // are listed as (position, first position) pairs: rare (exporter retries), so the common
  // case needs no per-record array written in random order.
  const dupAt: number[] = [];
  const dupFirst: number[] = [];
  for (let p = 0; p < parts; p++) {
    const base = slotStart[p] as number;
    const mask = (slotStart[p + 1] as number) - base - 1;
    const end = e.start[p + 1] as number;
    for (let j = e.start[p] as number; j < end; j++) {
      const ehi = e.hi[j] as number;
      const elo = e.lo[j] as number;
      for (let slot = hash(ehi, elo) & mask; ; slot = (slot + 1) & mask) {
        const b = (base + slot) * 3;
        const v = table[b + 2] as number;
        if (v === -1) {
          table[b] = ehi;
          table[b + 1] = elo;
          table[b + 2] = e.at[j] as number;
          break;
        }
        if (table[b] === ehi && table[b + 1] === elo) {
          dupAt.push(e.at[j] as number);
          dupFirst.push(v);
          break;
        }
      }
    }
  }
  if (dupAt.length === 0) {
    // Every id once: the number of a span is its position, which the table already holds.
    const lastPosition = new Int32Array(m);
    for (let i = 0; i < m; i++) lastPosition[i] = i;
    return { index: new HexSpanIdIndex(bits, slotStart, table, m), lastPosition };
  }
  // Numbers in first-seen order; a duplicate's first position is before it, so numbered first.
  const first = new Int32Array(m);
  for (let i = 0; i < m; i++) first[i] = i;
  for (let k = 0; k < dupAt.length; k++) first[dupAt[k] as number] = dupFirst[k] as number;
  const number = new Int32Array(m);
  const lastPosition = new Int32Array(m);
  let size = 0;
  for (let i = 0; i < m; i++) {
    const f = first[i] as number;
    const u = f === i ? size++ : (number[f] as number);
    number[i] = u;
    lastPosition[u] = i;
  }
  for (let b = 2; b < table.length; b += 3) {
    const v = table[b] as number;
    if (v >= 0) table[b] = number[v] as number;
  }
  return {
    index: new HexSpanIdIndex(bits, slotStart, table, size),
    lastPosition: lastPosition.slice(0, size),
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
