/**
 * A binary min-heap of items by a numeric key, then a numeric tie-break, with lazy removal: the
 * store pushes an item again whenever its key or its class changes, and the caller's `valid`
 * check tells current entries from outdated ones when they reach the top. Keys, ties and items
 * live in parallel arrays (no object per entry: the store keeps one or two entries per trace).
 *
 * Hand-written rather than taken from a library because it sits on the ingest path (a push per
 * trace per batch) and because lazy removal with a validity callback is what makes eviction
 * O(log n) per trace without the library having to find entries.
 */
export class SeqHeap<T> {
  private keys: number[] = [];
  private ties: number[] = [];
  private items: T[] = [];

  constructor(private readonly valid: (item: T, key: number, tie: number) => boolean) {}

  /** Entries held, current and outdated. */
  get size(): number {
    return this.keys.length;
  }

  /** Whether entry i orders before (key, tie). */
  private before(i: number, key: number, tie: number): boolean {
    const k = this.keys[i]!;
    return k < key || (k === key && this.ties[i]! < tie);
  }

  private set(i: number, key: number, tie: number, item: T): void {
    this.keys[i] = key;
    this.ties[i] = tie;
    this.items[i] = item;
  }

  push(key: number, item: T, tie = 0): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.ties.push(tie);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // Stop once the parent orders at or before the new entry.
      if (!(key < this.keys[parent]! || (key === this.keys[parent]! && tie < this.ties[parent]!))) {
        break;
      }
      this.set(i, this.keys[parent]!, this.ties[parent]!, this.items[parent]!);
      i = parent;
    }
    this.set(i, key, tie, item);
  }

  /** The first item among current entries (outdated ones on top are dropped). */
  peek(): T | undefined {
    while (this.keys.length > 0) {
      const item = this.items[0]!;
      if (this.valid(item, this.keys[0]!, this.ties[0]!)) return item;
      this.pop();
    }
    return undefined;
  }

  private pop(): void {
    const key = this.keys.pop()!;
    const tie = this.ties.pop()!;
    const item = this.items.pop()!;
    if (this.keys.length === 0) return;
    this.set(0, key, tie, item);
    this.siftDown(0);
  }

  /**
   * Drops the outdated entries once they are most of the heap (called by the owner after it
   * made entries outdated): keeps memory within about twice the current entries, amortised O(1).
   */
  compactIfMostlyOutdated(current: number): void {
    if (this.keys.length < 1024 || this.keys.length <= 2 * current) return;
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (!this.valid(this.items[i]!, this.keys[i]!, this.ties[i]!)) continue;
      this.set(n++, this.keys[i]!, this.ties[i]!, this.items[i]!);
    }
    this.keys.length = n;
    this.ties.length = n;
    this.items.length = n;
    // Floyd's heap construction: O(n), no sort (this runs on the ingest path).
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(from: number): void {
    const key = this.keys[from]!;
    const tie = this.ties[from]!;
    const item = this.items[from]!;
    const n = this.keys.length;
    let i = from;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(child + 1, this.keys[child]!, this.ties[child]!)) child++;
      if (!this.before(child, key, tie)) break;
      this.set(i, this.keys[child]!, this.ties[child]!, this.items[child]!);
      i = child;
    }
    this.set(i, key, tie, item);
  }

  clear(): void {
    this.keys = [];
    this.ties = [];
    this.items = [];
  }
}
