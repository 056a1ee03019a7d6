/**
 * A read-only `Map<spanId, number>` view over one column of a trace's analysis.
 *
 * The analyses compute per-row typed arrays (row = index into `TraceTree.spans`); callers that
 * look up one span by id (the read API, the details panel, tests) still get a `ReadonlyMap`, but
 * nothing is copied into a real Map of 100,000 string keys unless someone iterates it, and then
 * only the rows listed are visited.
 */

/** How a {@link RowMap} finds a span's row. */
export interface RowLookup {
  /** Row of the span id, or -1 when it is not in the trace. */
  rowOf(spanId: string): number;
  /** The span id at a row. */
  spanIdAt(row: number): string;
}

/**
 * Invariant: `rows` lists exactly the rows that are members, each once, in iteration order;
 * `column[row]` is a member's value. Membership of a looked-up row is decided by `isMember`
 * (every row for a dense view; a nonzero value for the sparse ones, where the analyses only ever
 * list rows with nonzero values).
 */
export class RowMap implements ReadonlyMap<string, number> {
  readonly size: number;

  constructor(
    private readonly lookup: RowLookup,
    private readonly column: Float64Array,
    private readonly rows: Int32Array | undefined,
    private readonly dense: boolean,
  ) {
    this.size = rows === undefined ? column.length : rows.length;
  }

  /** A view of every row, in row order (the tree's pre-order). */
  static dense(lookup: RowLookup, values: Float64Array): RowMap {
    return new RowMap(lookup, values, undefined, true);
  }

  /** A view of the listed rows, whose values are all nonzero, in the listed order. */
  static sparse(lookup: RowLookup, values: Float64Array, rows: Int32Array): RowMap {
    return new RowMap(lookup, values, rows, false);
  }

  get(spanId: string): number | undefined {
    const row = this.lookup.rowOf(spanId);
    if (row < 0) return undefined;
    const v = this.column[row] as number;
    return this.dense || v !== 0 ? v : undefined;
  }

  has(spanId: string): boolean {
    return this.get(spanId) !== undefined;
  }

  forEach(fn: (value: number, key: string, map: ReadonlyMap<string, number>) => void): void {
    for (const [k, v] of this) fn(v, k, this);
  }

  *entries(): MapIterator<[string, number]> {
    const rows = this.rows;
    for (let i = 0; i < this.size; i++) {
      const row = rows === undefined ? i : (rows[i] as number);
      yield [this.lookup.spanIdAt(row), this.column[row] as number];
    }
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<number> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'RowMap';
  }
}
