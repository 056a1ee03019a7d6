/**
 * Traces in the order they joined a key (a service, a span name, "has errors", a duration
 * bucket, or simply "held"), newest last, each with the store's sequence number at the time it
 * joined. Queries walk a list from its newest end, so the latest N matches cost about N steps
 * whatever the store holds.
 *
 * Invariants:
 * - `seqs` is non-decreasing, and an entry's seq is at least its trace's `arrival` (a trace
 *   joins a key when it is created or later). That is what lets a query stop early and still
 *   return exactly the latest traces by arrival (see `TraceStore.list`).
 * - Removal is lazy: an entry whose trace was evicted, or left the key (a duration bucket), stays
 *   until `compact`; the owner counts such entries with `drop()`, so `live` is exact and memory
 *   stays within twice the live entries.
 */
export class ArrivalList<T> {
  traces: T[] = [];
  seqs: number[] = [];
  private outdated = 0;

  /** `valid(t)`: whether an entry of `t` still counts in this list. */
  constructor(private readonly valid: (t: T) => boolean) {}

  /** Entries that still count. */
  get live(): number {
    return this.traces.length - this.outdated;
  }

  /** Entries held, outdated ones included. */
  get length(): number {
    return this.traces.length;
  }

  push(t: T, seq: number): void {
    this.traces.push(t);
    this.seqs.push(seq);
  }

  isValid(t: T): boolean {
    return this.valid(t);
  }

  /** Notes that one entry no longer counts; compacts once such entries are most of the list. */
  drop(): void {
    this.outdated++;
    if (this.outdated >= 256 && this.outdated * 2 > this.traces.length) this.compact();
  }

  private compact(): void {
    const traces: T[] = [];
    const seqs: number[] = [];
    for (let i = 0; i < this.traces.length; i++) {
      const t = this.traces[i]!;
      if (!this.valid(t)) continue;
      traces.push(t);
      seqs.push(this.seqs[i]!);
    }
    this.traces = traces;
    this.seqs = seqs;
    this.outdated = 0;
  }
}
