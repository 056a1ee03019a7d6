/**
 * The forwarder's source without `--data`: accepted batches wait in memory. Nothing here is
 * durable, so the forwarder bounds it (`maxPendingBytes`) and counts what it drops.
 *
 * Positions are a running count of the bytes ever offered, so a batch's [start, end) never
 * changes; that is what the forwarder's cursor bookkeeping needs, and nothing is persisted.
 */
import type { ForwardChunk, ForwardRecord, ForwardSource } from './forwarder.js';

export class MemoryForwardQueue implements ForwardSource {
  readonly mode = 'memory' as const;
  private queue: ForwardRecord[] = [];
  /** Index of the oldest unread batch in `queue` (shifting an array is O(n)). */
  private head = 0;
  private offered = 0;
  private readPos = 0;

  offer(batch: Uint8Array): void {
    this.queue.push({ start: this.offered, end: this.offered + batch.length, payload: batch });
    this.offered += batch.length;
  }

  get unreadBytes(): number {
    return this.offered - this.readPos;
  }

  get unreadRecords(): number {
    return this.queue.length - this.head;
  }

  /** Synchronous: consecutive batches up to `maxBytes` (always at least one if any waits). */
  take(maxBytes: number): ForwardChunk | undefined {
    if (this.head >= this.queue.length) return undefined;
    const records: ForwardRecord[] = [];
    let bytes = 0;
    while (this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      if (records.length > 0 && bytes + next.payload.length > maxBytes) break;
      records.push(next);
      bytes += next.payload.length;
      this.head++;
    }
    // Drop the consumed prefix once it is most of the array, keeping take() amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    const end = records[records.length - 1]!.end;
    this.readPos = end;
    return { start: records[0]!.start, end, records };
  }

  /** Nothing to persist: delivered batches are already out of the queue. */
  commit(): void {}

  close(): void {
    this.queue = [];
    this.head = 0;
    this.readPos = this.offered;
  }
}
