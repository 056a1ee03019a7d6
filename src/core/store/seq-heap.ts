/**
 * A binary min-heap of items by a numeric key, with lazy removal: the store pushes an item again
 * whenever its key or its class changes, and the caller's `valid` check tells current entries
 * from outdated ones when they reach the top. Keys and items live in two parallel arrays (no
 * object per entry: the store keeps one or two entries per trace).
 *
 * Hand-written rather than taken from a library because it sits on the ingest path (a push per
 * trace per batch) and because lazy removal with a validity callback is what makes eviction
 * O(log n) per trace without the library having to find entries.
 */
export class SeqHeap<T> {
  private keys: number[] = [];
  private items: T[] = [];

  constructor(private readonly valid: (item: T, key: number) => boolean) {}

  /** Entries held, current and outdated. */
  get size(): number {
    return this.keys.length;
  }

  push(key: number, item: T): void {
    const keys = this.keys;
    const items = this.items;
    let i = keys.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    keys[i] = key;
    items[i] = item;
  }

  /** The item with the smallest key among current entries (outdated ones on top are dropped). */
  peek(): T | undefined {
    while (this.keys.length > 0) {
      const item = this.items[0]!;
      if (this.valid(item, this.keys[0]!)) return item;
      this.pop();
    }
    return undefined;
  }

  /** The smallest key among current entries, or Infinity. */
  peekKey(): number {
    return this.peek() === undefined ? Infinity : this.keys[0]!;
  }

  private pop(): void {
    const keys = this.keys;
    const items = this.items;
    const lastKey = keys.pop()!;
    const lastItem = items.pop()!;
    const n = keys.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= lastKey) break;
      keys[i] = keys[child]!;
      items[i] = items[child]!;
      i = child;
    }
    keys[i] = lastKey;
    items[i] = lastItem;
  }

  /**
   * Drops the outdated entries once they are most of the heap (called by the owner after it
   * made entries outdated): keeps memory within about twice the current entries, amortised O(1).
   */
  compactIfMostlyOutdated(current: number): void {
    if (this.keys.length < 1024 || this.keys.length <= 2 * current) return;
    const keys: number[] = [];
    const items: T[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (!this.valid(this.items[i]!, this.keys[i]!)) continue;
      keys.push(this.keys[i]!);
      items.push(this.items[i]!);
    }
    // Sorted arrays are valid heaps.
    const order = keys.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]!);
    this.keys = order.map((i) => keys[i]!);
    this.items = order.map((i) => items[i]!);
  }

  clear(): void {
    this.keys = [];
    this.items = [];
  }
}
