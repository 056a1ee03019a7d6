/**
 * The forwarder's source with `--data`: it follows the span log like a write-ahead-log reader,
 * so a batch is forwarded from the same bytes that made it durable, and nothing accepted is lost
 * while the upstream is down (within the forwarder's `maxPendingBytes`) or across a restart.
 *
 * ## Positions
 *
 * The forwarder works with positions that never move; compaction moves bytes in the file. A
 * position is `file offset + shift`, and a compaction that keeps the unforwarded tail (it always
 * does: `rewriteKeepingTail`) only changes `shift`. So the forwarder's groups in flight, its
 * read position and its cursor stay valid through a compaction, and an acknowledgement that
 * arrives after one still names the right records.
 *
 * Invariant: `cursor <= readPos <= end`, all positions; everything before `cursor` has been
 * delivered, rejected or dropped (counted); `end - shift` is the log's size.
 *
 * ## Reads
 *
 * One read at a time, in order (`take` chains them), a window at a time and asynchronous
 * (`span-log-reader.ts`). A read that was in progress when a compaction ran is thrown away and
 * done again, since the file it read from may not be the one the positions now map to.
 */
import { readLogRecords } from '../store/span-log-reader.js';
import type { RewriteOptions, RewriteResult, SpanLog } from '../store/span-log.js';
import type { ForwardCursorWriter, ResumeAt } from './forward-cursor.js';
import type { ForwardChunk, ForwardSource } from './forwarder.js';
import type { Logger } from '../logger.js';

export class SpanLogForwardSource implements ForwardSource {
  readonly mode = 'log' as const;
  private shift = 0;
  private generation: number;
  private readPos: number;
  private end: number;
  private cursor: number;
  private unread: number;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private cursorWriteFailed = false;

  constructor(
    private readonly log: SpanLog,
    private readonly cursorFile: ForwardCursorWriter,
    start: ResumeAt,
    private readonly logger?: Logger,
  ) {
    this.generation = log.generation;
    this.readPos = start.offset;
    this.end = log.sizeBytes;
    this.cursor = start.offset;
    this.unread = start.pendingRecords;
    // Saved at once, not at the first acknowledgement: a kill before that must not leave a log
    // with no cursor, which would resume at the end and skip what waited.
    this.saveCursor();
  }

  /** The batch was appended to the log: the end moves. */
  offer(): void {
    this.unread++;
    this.end = this.log.sizeBytes + this.shift;
  }

  get unreadBytes(): number {
    return this.end - this.readPos;
  }

  get unreadRecords(): number {
    // Counted at replay and at each append; a corrupt region can make it a guess, never negative.
    return this.unreadBytes === 0 ? 0 : this.unread;
  }

  take(maxBytes: number): Promise<ForwardChunk | undefined> {
    const next = this.chain.then(() => this.read(maxBytes));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async read(maxBytes: number): Promise<ForwardChunk | undefined> {
    while (!this.closed && this.readPos < this.end) {
      const generation = this.generation;
      const shift = this.shift;
      const from = this.readPos;
      let read;
      try {
        read = await readLogRecords(this.log.path, from - shift, this.end - shift, {
          maxBytes,
          maxRecordBytes: this.log.maxRecordBytes,
        });
      } catch (e) {
        if (generation !== this.generation) continue;
        throw e;
      }
      if (generation !== this.generation) continue;
      if (this.closed) return undefined;
      for (const s of read.skipped) {
        this.logger?.warn(
          `forwarding: skipped ${s.length} unreadable bytes at offset ${s.offset} of ${this.log.path}`,
        );
      }
      this.readPos = read.next + shift;
      this.unread = Math.max(0, this.unread - read.records.length);
      return {
        start: from,
        end: this.readPos,
        records: read.records.map((r) => ({
          start: r.offset + shift,
          end: r.end + shift,
          payload: r.payload,
        })),
      };
    }
    return undefined;
  }

  /** Everything before `position` is done: save it as the cursor. */
  commit(position: number): void {
    this.cursor = position;
    this.saveCursor();
  }

  private saveCursor(): void {
    try {
      this.cursorFile.write([{ generation: this.generation, offset: this.cursor - this.shift }]);
      this.cursorWriteFailed = false;
    } catch (e) {
      // The cursor in memory is still right; a stale file only means re-sending after a restart.
      if (!this.cursorWriteFailed) {
        this.logger?.warn(
          `forwarding: cannot save the cursor ${this.cursorFile.file}: ${(e as Error).message}`,
        );
      }
      this.cursorWriteFailed = true;
    }
  }

  /** Bytes of the log before the cursor: what a compaction can reclaim (plus what is held). */
  get forwardedBytes(): number {
    return this.cursor - this.shift;
  }

  /** Bytes from the cursor to the end of the log: what a compaction has to copy. */
  get tailBytes(): number {
    return this.end - this.cursor;
  }

  /**
   * Runs a compaction (`rewrite` is `SpanLog.rewrite` with the new payloads bound) so that every
   * byte from the cursor on is kept, and the cursor is saved for both generations, fsynced,
   * before the new log replaces the old one.
   */
  rewriteKeepingTail(rewrite: (options: RewriteOptions) => RewriteResult): void {
    const keepFrom = this.cursor - this.shift;
    const old = { generation: this.generation, offset: keepFrom };
    const result = rewrite({
      keepFrom,
      beforeCommit: (next) =>
        this.cursorFile.write([old, { generation: next.generation, offset: next.keptAt }], true),
    });
    this.shift = this.cursor - result.keptAt;
    this.generation = result.generation;
  }

  close(): void {
    this.closed = true;
  }
}
