/**
 * Dynamic batching: requests queue until `maxBatch` are waiting or the oldest has waited
 * `maxWaitMs`, then run together. One batch runs at a time per model (a session is busy while it
 * runs); requests that arrive meanwhile form the next batch.
 */
export interface BatchItem<T> {
  readonly value: T;
  readonly enqueuedAt: number;
}

export class DynamicBatcher<T> {
  private queue: BatchItem<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
    /** Runs one batch; the next batch starts when its promise settles. */
    private readonly run: (batch: BatchItem<T>[], reason: 'full' | 'timeout') => Promise<void>,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(value: T): void {
    this.queue.push({ value, enqueuedAt: performance.now() });
    this.schedule();
  }

  /** Takes a value out of the queue (its deadline passed); false when it already ran. */
  remove(value: T): boolean {
    const i = this.queue.findIndex((item) => item.value === value);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queue.length >= this.maxBatch) {
      this.flush('full');
      return;
    }
    if (this.timer !== undefined) return;
    const oldest = this.queue[0]!.enqueuedAt;
    const delay = Math.max(0, this.maxWaitMs - (performance.now() - oldest));
    this.timer = setTimeout(() => this.flush('timeout'), delay);
  }

  private flush(reason: 'full' | 'timeout'): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = true;
    void this.run(batch, reason).finally(() => {
      this.running = false;
      this.schedule();
    });
  }
}
