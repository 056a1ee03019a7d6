/**
 * The parent/child structure of one trace, rebuilt from spans that may arrive in any order, more
 * than once, or not at all (a parent that was never exported).
 *
 * Everything else in `analysis/` walks this tree instead of `parentSpanId`, so the repairs made
 * here (orphans promoted to roots, follows-from adoption through links, broken cycles, clock skew
 * between processes) are made in exactly one place.
 *
 * The tree is columnar: a span is a *row*, its index in `spans` (the pre-order), and the
 * structure is a handful of typed arrays over rows (parent, depth, children as CSR, shift, times).
 * The span id -> row map is built once, here; the analyses downstream work on rows only, so a
 * 100,000-span trace costs no Map lookup per span per analysis and no object per span. The
 * id-based methods (`children`, `parentOf`, ...) remain for callers that hold a span id.
 */

import { SpanRecord } from '../model.js';
import { computeClockShifts, ProcessNumbers } from './clock-skew.js';
import { RowMap, type RowLookup } from './row-map.js';
import { indexSpanIds, type SpanIdIndex } from './span-id-index.js';

/** A trace's spans arranged as a forest. Built by {@link buildTraceTree}; immutable. */
export interface TraceTree extends RowLookup {
  /** The trace id of the first input span ('' for an empty trace). */
  readonly traceId: string;
  /**
   * The deduplicated spans in pre-order depth-first order: roots by start time, each followed by
   * its subtree, children by start time. A parent therefore always precedes its descendants,
   * and iterating backwards visits every child before its parent. A span's index here is its
   * *row*, which every column below is indexed by.
   */
  readonly spans: readonly SpanRecord[];
  /** Span id -> span (the last one received when the id was duplicated). */
  readonly byId: ReadonlyMap<string, SpanRecord>;
  /** Spans without an effective parent, by start time. Orphans are among them unless adopted. */
  readonly roots: readonly SpanRecord[];
  /** Earliest start over all spans (0 for an empty trace). */
  readonly startMs: number;
  /** Latest end over all spans; never less than `startMs` (0 for an empty trace). */
  readonly endMs: number;
  /** Input records dropped because a later record had the same span id. */
  readonly duplicateCount: number;
  /** Spans whose `parentSpanId` names a span that is not in the trace. */
  readonly orphanCount: number;
  /** Parent links ignored because they formed a cycle (malformed data). */
  readonly brokenCycleCount: number;
  /**
   * Span id -> milliseconds its times were shifted by the clock-skew adjustment (see
   * `clock-skew.ts`); only shifted spans are listed. The records in this tree carry the
   * adjusted times; the raw ones are the record's times minus the shift (and in its bytes).
   */
  readonly clockShifts: ReadonlyMap<string, number>;
  /** The clock-skew shift of a span in ms (0 when none). */
  clockShiftOf(spanId: string): number;
  /**
   * Children of a span (effective ones: real children plus link-adopted followers), by start
   * time. Empty for an unknown id.
   */
  children(spanId: string): readonly SpanRecord[];
  /** The effective parent: the real parent when present, else the span it was adopted under. */
  parentOf(span: SpanRecord | string): SpanRecord | undefined;
  /** True when the span hangs under its effective parent through a link, not `parentSpanId`. */
  isAdopted(spanId: string): boolean;
  /** Distance from the span's root (roots are 0); -1 for an unknown id. */
  depthOf(spanId: string): number;

  // ----- Columns, indexed by row. Read-only by contract (typed arrays cannot be frozen). -----

  /** Row of the effective parent; -1 for a root. Always less than the child's row. */
  readonly parentRow: Int32Array;
  /**
   * Row of the span that `parentSpanId` names, before cycles were cut and adoptions made; -1
   * when the span names no parent or one that is not in the trace (an orphan).
   */
  readonly declaredParentRow: Int32Array;
  /** Distance from the row's root (roots are 0). */
  readonly depth: Int32Array;
  /**
   * Children as CSR: the children of row `r` are `childRow[childOffset[r] .. childOffset[r+1])`,
   * by start time (the order of `children`). `childOffset` has `spans.length + 1` entries.
   */
  readonly childOffset: Int32Array;
  readonly childRow: Int32Array;
  /** Rows of the roots, by start time (the order of `roots`). */
  readonly rootRow: Int32Array;
  /** 1 where the row hangs under its parent through a link (see `isAdopted`). */
  readonly adopted: Uint8Array;
  /** Clock-skew shift of each row in ms (0 when none; always finite). */
  readonly shiftMs: Float64Array;
  /** Adjusted start and end of each row (the `spans[row]` record's `startMs` and `endMs`). */
  readonly spanStartMs: Float64Array;
  readonly spanEndMs: Float64Array;
  /** Process number of each row: equal exactly when `processKeyOf` of the resources is. */
  readonly process: Int32Array;
  /** `SpanKind` of each row, as `kind | 0`. */
  readonly kind: Int32Array;
  /** 1 where the span has at least one link (to any trace). */
  readonly hasLinks: Uint8Array;
}

const NO_CHILDREN: readonly SpanRecord[] = Object.freeze([]);

/**
 * Builds the tree of one trace. `spans` should all belong to one trace; links are only followed
 * to spans with the same trace id.
 *
 * Repairs, in this order:
 * 1. Duplicate span ids: the last record wins (a re-export carries the newest data).
 * 2. A `parentSpanId` that is absent from the trace makes the span an orphan, i.e. a root.
 * 3. Parent cycles (only possible in malformed data) are cut at the span of the cycle that
 *    started first (ties: smallest span id), which becomes a root.
 * 4. Follows-from adoption: a root (orphans included) that links to a span of the same trace is
 *    attached under the first linked span that is not in its own subtree. Roots are considered
 *    latest-start first, so that when two roots link to each other the later one hangs under
 *    the earlier one (a consumer under its producer, not the reverse).
 * 5. Clock skew: a child in another process that a synchronous call placed outside its parent
 *    is shifted into it (`clock-skew.ts`); the shifts are in `clockShifts`.
 *
 * Runs in O(n log n) with no recursion, so 100,000-deep chains are fine.
 */
export function buildTraceTree(input: readonly SpanRecord[]): TraceTree {
  // Step 1. Spans get a number `u` in first-seen order of their id, and the record is the last
  // one received. Everything up to the final pre-order works on these numbers; rows are
  // assigned at the end.
  const { index: ids, lastPosition } = indexSpanIds(input);
  let unique: readonly SpanRecord[] = input;
  if (ids.size !== input.length) {
    unique = Array.from(lastPosition, (i) => input[i] as SpanRecord);
  }
  const n = unique.length;
  const duplicateCount = input.length - n;
  const traceId = input[0]?.traceId ?? '';

  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const kind = new Int32Array(n);
  const process = new Int32Array(n);
  const hasLinks = new Uint8Array(n);
  const processes = new ProcessNumbers();
  for (let u = 0; u < n; u++) {
    const span = unique[u] as SpanRecord;
    start[u] = span.startMs;
    end[u] = span.endMs;
    kind[u] = span.kind | 0;
    process[u] = processes.of(span.resource);
    if (span.links.length > 0) hasLinks[u] = 1;
  }
  /** Start time, then span id: a total order (ids are unique), independent of arrival. */
  const byStart = (a: number, b: number): number => {
    const d = (start[a] as number) - (start[b] as number);
    if (d < 0 || d > 0) return d;
    const x = (unique[a] as SpanRecord).spanId;
    const y = (unique[b] as SpanRecord).spanId;
    return x < y ? -1 : x > y ? 1 : 0;
  };

  // Step 2: real parents that exist.
  const declared = new Int32Array(n).fill(-1);
  let orphanCount = 0;
  for (let u = 0; u < n; u++) {
    const pid = (unique[u] as SpanRecord).parentSpanId;
    if (pid === '') continue;
    const p = ids.get(pid);
    if (p < 0) orphanCount++;
    else declared[u] = p;
  }
  const parent = Int32Array.from(declared);

  // Step 3: each span has at most one parent, so the parent edges form a functional graph whose
  // cycles are found by walking up with three colours (0 unvisited, 1 on the current walk, 2 done).
  let brokenCycleCount = 0;
  const colour = new Uint8Array(n);
  // One scratch array of n ints serves, in turn, as this walk, the start order and the DFS
  // stack (each is dead before the next use): at a million spans every array is 4 MB that the
  // GC has to be asked to free.
  const scratch = new Int32Array(n);
  const walk = scratch;
  for (let s = 0; s < n; s++) {
    if (colour[s] !== 0) continue;
    let len = 0;
    let cur = s;
    while (cur >= 0 && colour[cur] === 0) {
      colour[cur] = 1;
      walk[len++] = cur;
      cur = parent[cur] as number;
    }
    if (cur >= 0 && colour[cur] === 1) {
      // `cur` is on this walk: the cycle is walk[k..len) with walk[k] = cur.
      let k = len - 1;
      while (walk[k] !== cur) k--;
      let cut = cur;
      for (let j = k; j < len; j++)
        if (byStart(walk[j] as number, cut) < 0) cut = walk[j] as number;
      parent[cut] = -1;
      brokenCycleCount++;
    }
    for (let j = 0; j < len; j++) colour[walk[j] as number] = 2;
  }

  // Step 4: union-find over the components of the parent forest. Attaching a root under a span
  // of another component cannot close a cycle; under its own component it would. The forest
  // itself is a valid union-find structure (each root its own representative), so it is only
  // copied, and `find` compresses paths as it goes: no work for spans no query reaches.
  // n + 1 entries: the array is reused below as the CSR fill pointers (bucket n is the roots).
  const uf = new Int32Array(n + 1);
  for (let u = 0; u < n; u++) {
    const p = parent[u] as number;
    uf[u] = p < 0 ? u : p;
  }
  const find = (x: number): number => {
    let root = x;
    while (uf[root] !== root) root = uf[root] as number;
    // Path compression keeps later finds near O(1).
    while (x !== root) {
      const next = uf[x] as number;
      uf[x] = root;
      x = next;
    }
    return root;
  };
  const adoptedU = new Uint8Array(n);
  const candidates: number[] = [];
  for (let u = 0; u < n; u++) {
    if (parent[u] === -1 && hasLinks[u] === 1) candidates.push(u);
  }
  candidates.sort((a, b) => byStart(b, a));
  for (const u of candidates) {
    const span = unique[u] as SpanRecord;
    for (const link of span.links) {
      if (link.traceId !== span.traceId || link.spanId === span.spanId) continue;
      const target = ids.get(link.spanId);
      if (target < 0) continue;
      const a = find(u);
      const b = find(target);
      if (a === b) continue;
      parent[u] = target;
      adoptedU[u] = 1;
      uf[a] = b;
      break;
    }
  }

  // Step 5: children as CSR, sorted by start. One sort of every span by start, then a stable
  // bucketing by parent, instead of one sort per parent; roots are bucket `n`.
  const sorted = scratch;
  {
    const all: number[] = new Array<number>(n);
    for (let u = 0; u < n; u++) all[u] = u;
    // Array#sort (TimSort) rather than a typed array's (a merge sort in V8): it is adaptive,
    // and a trace often arrives in runs of start order (a batch per process), which it merges.
    all.sort(byStart);
    for (let i = 0; i < n; i++) sorted[i] = all[i] as number;
  }
  const offset = new Int32Array(n + 2);
  for (let u = 0; u < n; u++) {
    const p = parent[u] as number;
    offset[(p < 0 ? n : p) + 1]!++;
  }
  for (let i = 0; i <= n; i++) offset[i + 1]! += offset[i] as number;
  const kids = new Int32Array(n);
  {
    const fill = uf;
    fill.set(offset.subarray(0, n + 1));
    for (let i = 0; i < n; i++) {
      const u = sorted[i] as number;
      const p = parent[u] as number;
      kids[fill[p < 0 ? n : p]!++] = u;
    }
  }
  let order = preorder(n, offset, kids, scratch);

  // Step 6: clock skew across processes, over the first pre-order (the rule depends on it:
  // a process's shift is the one its first synchronous call needed). A shift can reorder
  // siblings; only the sibling lists that hold a shifted span are sorted again.
  const skew = computeClockShifts({
    order,
    parent,
    adopted: adoptedU,
    kind,
    process,
    startMs: start,
    endMs: end,
    processCount: processes.count,
  });
  let records = unique;
  if (skew.shifted.length > 0) {
    const copy = unique.slice();
    const resort = new Uint8Array(n);
    for (const u of skew.shifted) {
      const s = skew.shift[u] as number;
      const span = unique[u] as SpanRecord;
      copy[u] = new SpanRecord(
        span.traceId,
        span.spanId,
        span.parentSpanId,
        span.name,
        span.kind,
        span.startMs + s,
        span.endMs + s,
        span.statusCode,
        span.links,
        span.resource,
        span.scope,
        span.raw,
      );
      start[u] = span.startMs + s;
      end[u] = span.endMs + s;
      // A shifted span always has a parent: roots are never shifted.
      resort[parent[u] as number] = 1;
    }
    records = copy;
    for (let p = 0; p < n; p++) {
      if (resort[p] === 0) continue;
      const lo = offset[p] as number;
      const hi = offset[p + 1] as number;
      const list = Array.from(kids.subarray(lo, hi)).sort(byStart);
      kids.set(list, lo);
    }
    order = preorder(n, offset, kids, scratch);
  }

  return new ColumnarTree(
    traceId,
    ids,
    records,
    order,
    parent,
    declared,
    adoptedU,
    skew.shift,
    skew.shifted,
    start,
    end,
    process,
    kind,
    hasLinks,
    duplicateCount,
    orphanCount,
    brokenCycleCount,
  );
}

/**
 * Pre-order DFS over CSR children with an explicit stack (no recursion: 100,000-deep chains are
 * fine). Bucket `n` of `offset`/`kids` holds the roots; `stack` has room for n entries.
 */
function preorder(n: number, offset: Int32Array, kids: Int32Array, stack: Int32Array): Int32Array {
  const order = new Int32Array(n);
  let top = 0;
  let k = 0;
  // Children are pushed in reverse to pop in start order.
  for (let i = (offset[n + 1] as number) - 1; i >= (offset[n] as number); i--) {
    stack[top++] = kids[i] as number;
  }
  while (top > 0) {
    const u = stack[--top] as number;
    order[k++] = u;
    for (let i = (offset[u + 1] as number) - 1; i >= (offset[u] as number); i--) {
      stack[top++] = kids[i] as number;
    }
  }
  return order;
}

/** `out[r] = src[order[r]]` (one function per array type, so each stays monomorphic). */
function gatherF64(src: Float64Array, order: Int32Array): Float64Array {
  const out = new Float64Array(order.length);
  for (let r = 0; r < order.length; r++) out[r] = src[order[r] as number] as number;
  return out;
}

function gatherI32(src: Int32Array, order: Int32Array): Int32Array {
  const out = new Int32Array(order.length);
  for (let r = 0; r < order.length; r++) out[r] = src[order[r] as number] as number;
  return out;
}

function gatherU8(src: Uint8Array, order: Int32Array): Uint8Array {
  const out = new Uint8Array(order.length);
  for (let r = 0; r < order.length; r++) out[r] = src[order[r] as number] as number;
  return out;
}

/** The tree, with every column in row (pre-order) space. */
class ColumnarTree implements TraceTree {
  readonly spans: readonly SpanRecord[];
  readonly roots: readonly SpanRecord[];
  readonly startMs: number;
  readonly endMs: number;
  readonly parentRow: Int32Array;
  readonly declaredParentRow: Int32Array;
  readonly depth: Int32Array;
  readonly childOffset: Int32Array;
  readonly childRow: Int32Array;
  readonly rootRow: Int32Array;
  readonly adopted: Uint8Array;
  readonly shiftMs: Float64Array;
  readonly spanStartMs: Float64Array;
  readonly spanEndMs: Float64Array;
  readonly process: Int32Array;
  readonly kind: Int32Array;
  readonly hasLinks: Uint8Array;
  /** Span number (first-seen order of ids) -> row. */
  private readonly rowOfNumber: Int32Array;
  private readonly shiftedRows: Int32Array;
  private byIdView: ReadonlyMap<string, SpanRecord> | undefined;
  private shiftsView: ReadonlyMap<string, number> | undefined;

  constructor(
    readonly traceId: string,
    private readonly ids: SpanIdIndex,
    /** Per span number, its record. */
    records: readonly SpanRecord[],
    order: Int32Array,
    parent: Int32Array,
    declared: Int32Array,
    adopted: Uint8Array,
    shift: Float64Array,
    shifted: Int32Array,
    start: Float64Array,
    end: Float64Array,
    process: Int32Array,
    kind: Int32Array,
    hasLinks: Uint8Array,
    readonly duplicateCount: number,
    readonly orphanCount: number,
    readonly brokenCycleCount: number,
  ) {
    const n = order.length;
    const rowOf = new Int32Array(n);
    for (let r = 0; r < n; r++) rowOf[order[r] as number] = r;
    this.rowOfNumber = rowOf;
    const spans = new Array<SpanRecord>(n);
    for (let r = 0; r < n; r++) spans[r] = records[order[r] as number] as SpanRecord;
    this.parentRow = new Int32Array(n);
    this.declaredParentRow = new Int32Array(n);
    this.depth = new Int32Array(n);
    const childCount = new Int32Array(n + 1);
    let rootCount = 0;
    for (let r = 0; r < n; r++) {
      const u = order[r] as number;
      const p = parent[u] as number;
      const pr = p < 0 ? -1 : (rowOf[p] as number);
      this.parentRow[r] = pr;
      const d = declared[u] as number;
      this.declaredParentRow[r] = d < 0 ? -1 : (rowOf[d] as number);
      // Pre-order: the parent's depth is already set.
      this.depth[r] = pr < 0 ? 0 : (this.depth[pr] as number) + 1;
      if (pr < 0) rootCount++;
      else childCount[pr + 1]!++;
    }
    // One column per loop: at a million spans the gathers miss the cache, and a loop with one
    // source and one destination keeps the hardware prefetchers on them.
    this.adopted = gatherU8(adopted, order);
    this.shiftMs = gatherF64(shift, order);
    this.spanStartMs = gatherF64(start, order);
    this.spanEndMs = gatherF64(end, order);
    this.process = gatherI32(process, order);
    this.kind = gatherI32(kind, order);
    this.hasLinks = gatherU8(hasLinks, order);
    let startMs = Infinity;
    let endMs = -Infinity;
    for (let r = 0; r < n; r++) {
      const s = this.spanStartMs[r] as number;
      if (s < startMs) startMs = s;
      // A span that ends before it starts (bad clock) still occupies its start instant.
      const e = Math.max(s, this.spanEndMs[r] as number);
      if (e > endMs) endMs = e;
    }
    if (n === 0) startMs = endMs = 0;
    this.spans = spans;
    this.startMs = startMs;
    this.endMs = endMs;

    // In pre-order the children of a row come in their sibling order, so filling the buckets in
    // row order keeps them sorted by start.
    for (let r = 0; r < n; r++) childCount[r + 1]! += childCount[r] as number;
    this.childOffset = childCount;
    const fill = childCount.slice(0, n);
    this.childRow = new Int32Array(n - rootCount);
    this.rootRow = new Int32Array(rootCount);
    const roots = new Array<SpanRecord>(rootCount);
    let k = 0;
    for (let r = 0; r < n; r++) {
      const pr = this.parentRow[r] as number;
      if (pr < 0) {
        this.rootRow[k] = r;
        roots[k++] = spans[r] as SpanRecord;
      } else {
        this.childRow[fill[pr]!++] = r;
      }
    }
    this.roots = roots;
    this.shiftedRows = shifted.map((u) => rowOf[u] as number);
  }

  rowOf(spanId: string): number {
    const u = this.ids.get(spanId);
    return u < 0 ? -1 : (this.rowOfNumber[u] as number);
  }

  spanIdAt(row: number): string {
    return (this.spans[row] as SpanRecord).spanId;
  }

  /** The records (adjusted where shifted) in first-seen order of their ids. */
  *inFirstSeenOrder(): Generator<SpanRecord> {
    for (let u = 0; u < this.spans.length; u++) {
      yield this.spans[this.rowOfNumber[u] as number] as SpanRecord;
    }
  }

  get byId(): ReadonlyMap<string, SpanRecord> {
    return (this.byIdView ??= new SpanById(this));
  }

  get clockShifts(): ReadonlyMap<string, number> {
    return (this.shiftsView ??= RowMap.sparse(this, this.shiftMs, this.shiftedRows));
  }

  clockShiftOf(spanId: string): number {
    const r = this.rowOf(spanId);
    return r < 0 ? 0 : (this.shiftMs[r] as number);
  }

  children(spanId: string): readonly SpanRecord[] {
    const r = this.rowOf(spanId);
    if (r < 0) return NO_CHILDREN;
    const lo = this.childOffset[r] as number;
    const hi = this.childOffset[r + 1] as number;
    if (lo === hi) return NO_CHILDREN;
    const out = new Array<SpanRecord>(hi - lo);
    for (let k = lo; k < hi; k++)
      out[k - lo] = this.spans[this.childRow[k] as number] as SpanRecord;
    return out;
  }

  parentOf(span: SpanRecord | string): SpanRecord | undefined {
    const r = this.rowOf(typeof span === 'string' ? span : span.spanId);
    const p = r < 0 ? -1 : (this.parentRow[r] as number);
    return p < 0 ? undefined : this.spans[p];
  }

  isAdopted(spanId: string): boolean {
    const r = this.rowOf(spanId);
    return r >= 0 && this.adopted[r] === 1;
  }

  depthOf(spanId: string): number {
    const r = this.rowOf(spanId);
    return r < 0 ? -1 : (this.depth[r] as number);
  }
}

/**
 * `byId` as a view: span id -> the record at its row, iterated in first-seen order of the ids
 * (span numbers are that order).
 */
class SpanById implements ReadonlyMap<string, SpanRecord> {
  constructor(private readonly tree: ColumnarTree) {}

  get size(): number {
    return this.tree.spans.length;
  }

  get(spanId: string): SpanRecord | undefined {
    const r = this.tree.rowOf(spanId);
    return r < 0 ? undefined : this.tree.spans[r];
  }

  has(spanId: string): boolean {
    return this.tree.rowOf(spanId) >= 0;
  }

  forEach(
    fn: (value: SpanRecord, key: string, map: ReadonlyMap<string, SpanRecord>) => void,
  ): void {
    for (const [k, v] of this) fn(v, k, this);
  }

  *entries(): MapIterator<[string, SpanRecord]> {
    for (const s of this.tree.inFirstSeenOrder()) yield [s.spanId, s];
  }

  *keys(): MapIterator<string> {
    for (const s of this.tree.inFirstSeenOrder()) yield s.spanId;
  }

  *values(): MapIterator<SpanRecord> {
    yield* this.tree.inFirstSeenOrder();
  }

  [Symbol.iterator](): MapIterator<[string, SpanRecord]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'SpanById';
  }
}

/**
 * A span that the trace's spans name as their parent but that has not been received (yet): while
 * a trace is still arriving, children end, and are exported, before their parent does.
 */
export interface MissingParent {
  /** The span id the orphans name as `parentSpanId`. */
  readonly spanId: string;
  /** Rows of the roots that name it, by start time (a subsequence of `rootRow`). */
  readonly rootRows: Int32Array;
  /** Earliest start and latest end (adjusted) over those roots and their subtrees. */
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The missing parents of a tree, in the order of their first orphan among the roots. Only roots
 * count: an orphan adopted under a span it links to is no longer waiting for its parent's place.
 * O(n) over the rows; the tree itself keeps the orphans as roots, so the analyses see only spans
 * that arrived, and a consumer that wants one row per missing parent (the waterfall) groups them
 * with this.
 */
export function missingParents(tree: TraceTree): MissingParent[] {
  const groups = new Map<string, { rows: number[]; startMs: number; endMs: number }>();
  const roots = tree.rootRow;
  const n = tree.spans.length;
  for (let k = 0; k < roots.length; k++) {
    const r = roots[k] as number;
    const pid = (tree.spans[r] as SpanRecord).parentSpanId;
    if (pid === '' || tree.declaredParentRow[r] !== -1) continue;
    // A root's subtree is the run of rows up to the next root (pre-order).
    const last = k + 1 < roots.length ? (roots[k + 1] as number) : n;
    let startMs = tree.spanStartMs[r] as number;
    let endMs = Math.max(startMs, tree.spanEndMs[r] as number);
    for (let i = r; i < last; i++) {
      const s = tree.spanStartMs[i] as number;
      if (s < startMs) startMs = s;
      const e = Math.max(s, tree.spanEndMs[i] as number);
      if (e > endMs) endMs = e;
    }
    const g = groups.get(pid);
    if (g === undefined) groups.set(pid, { rows: [r], startMs, endMs });
    else {
      g.rows.push(r);
      if (startMs < g.startMs) g.startMs = startMs;
      if (endMs > g.endMs) g.endMs = endMs;
    }
  }
  return Array.from(groups, ([spanId, g]) => ({
    spanId,
    rootRows: Int32Array.from(g.rows),
    startMs: g.startMs,
    endMs: g.endMs,
  }));
}
