/**
 * The forward cursor: how far into the span log the upstream has everything, kept in a small
 * file beside the log (`<data>/forward-cursor.json`) so that forwarding resumes where it stopped
 * after a restart or a crash.
 *
 * ## What is saved
 *
 * A byte offset in the log, tagged with the log's generation (`SpanLog.generation`), because a
 * compaction rewrites the file and every offset with it. A compaction saves two entries, the old
 * generation's cursor and where the same record sits in the new file, before it renames the new
 * log into place; whichever file a crash leaves, one entry matches it.
 *
 * ## Writes and fsync
 *
 * Every write goes to a temporary file that is renamed over the cursor, so a reader sees the old
 * cursor or the new one, never half of either. Routine updates (one per acknowledged request) are
 * not fsynced, like the log's appends: they survive the process dying (SIGKILL, a crash, a closed
 * window), and if an OS crash loses one, the cursor is older than it should be, which re-sends
 * what the upstream already has and loses nothing. The two-entry write of a compaction is fsynced
 * (file and folder) before the log's rename, because after that rename no older cursor fits.
 *
 * ## Resuming
 *
 * - no cursor file (forwarding was never on for this folder): start at the end of the log, so
 *   history that was never meant for the upstream is not sent to it;
 * - an entry for the log's generation at a record boundary: start there;
 * - no entry for the log's generation: the log was rewritten by a run that was not forwarding
 *   (or by an older Stagelight), which did not keep the unforwarded tail; start at the end, as
 *   for a folder that never forwarded, and warn;
 * - an unreadable file, or an offset that is not a record boundary (something damaged it):
 *   start at the beginning of the log and warn. At least once: duplicates upstream are better
 *   than a silent gap.
 *
 * The cursor is kept when `--forward` names another URL: the new upstream gets what the old one
 * had not yet received (a corrected URL after an outage is the common case).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDirectoryQuietly, SpanLog } from '../store/span-log.js';

export const FORWARD_CURSOR_FILE = 'forward-cursor.json';
const FORMAT = 1;

/** An offset in one generation of the span log. */
export interface CursorEntry {
  generation: number;
  offset: number;
}

export type SavedCursor =
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'saved'; url: string; entries: CursorEntry[] };

/** Reads the cursor file; never throws. */
export function readForwardCursor(file: string): SavedCursor {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: (e as Error).message };
  }
  try {
    const json = JSON.parse(text) as { format?: unknown; url?: unknown; cursor?: unknown };
    if (json.format !== FORMAT || !Array.isArray(json.cursor)) throw new Error('unknown format');
    const entries = json.cursor.map((e: { generation?: unknown; offset?: unknown }) => {
      if (!isCount(e.generation) || !isCount(e.offset)) throw new Error('bad entry');
      return { generation: e.generation, offset: e.offset };
    });
    return { kind: 'saved', url: typeof json.url === 'string' ? json.url : '', entries };
  } catch (e) {
    return { kind: 'unreadable', reason: (e as Error).message };
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Writes the cursor file atomically (see the module comment for the fsync policy). */
export class ForwardCursorWriter {
  private readonly temp: string;

  constructor(
    readonly file: string,
    private readonly url: string,
  ) {
    this.temp = `${file}.tmp`;
  }

  /** Replaces the cursor; throws the system error if it cannot. */
  write(entries: readonly CursorEntry[], durable = false): void {
    const text = JSON.stringify({ format: FORMAT, url: this.url, cursor: entries });
    if (!durable) {
      fs.writeFileSync(this.temp, text);
      fs.renameSync(this.temp, this.file);
      return;
    }
    const fd = fs.openSync(this.temp, 'w');
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(this.temp, this.file);
    fsyncDirectoryQuietly(path.dirname(this.file));
  }
}

/** Where forwarding starts in a freshly opened log. */
export interface ResumeAt {
  /** File offset of the first record to forward. */
  offset: number;
  /** Records from there to the end of the log. */
  pendingRecords: number;
  /** What to tell the user about how the start was chosen, if anything. */
  note?: { level: 'info' | 'warn'; message: string };
}

/**
 * Works out where to resume, counting during the log's replay (`observe` gets each record's
 * offset, in file order) so that nothing is read twice.
 */
export class ResumePoint {
  private total = 0;
  private readonly candidates: Array<CursorEntry & { after: number; boundary: boolean }>;

  constructor(
    readonly saved: SavedCursor,
    private readonly url: string,
  ) {
    this.candidates =
      saved.kind === 'saved' ? saved.entries.map((e) => ({ ...e, after: 0, boundary: false })) : [];
  }

  /** Loads the cursor file in `dataDir`. */
  static load(dataDir: string, url: string): ResumePoint {
    return new ResumePoint(readForwardCursor(path.join(dataDir, FORWARD_CURSOR_FILE)), url);
  }

  /** Called with the offset of every valid record, in file order. */
  observe(offset: number): void {
    this.total++;
    for (const c of this.candidates) {
      if (offset >= c.offset) c.after++;
      if (offset === c.offset) c.boundary = true;
    }
  }

  /** The start for a log of this generation and size (after replay). */
  resolve(log: { generation: number; sizeBytes: number }, logPath: string): ResumeAt {
    const saved = this.saved;
    if (saved.kind === 'missing') {
      return { offset: log.sizeBytes, pendingRecords: 0 };
    }
    const fromStart = (why: string): ResumeAt => ({
      offset: SpanLog.FILE_HEADER_BYTES,
      pendingRecords: this.total,
      note: {
        level: 'warn',
        message:
          `forward cursor ${FORWARD_CURSOR_FILE}: ${why}; forwarding every batch in ${logPath} ` +
          `from the start (the upstream may get some twice)`,
      },
    });
    if (saved.kind === 'unreadable') return fromStart(`unreadable (${saved.reason})`);
    const match = this.candidates.find((c) => c.generation === log.generation);
    if (match === undefined) {
      return {
        offset: log.sizeBytes,
        pendingRecords: 0,
        note: {
          level: 'warn',
          message:
            `forward cursor ${FORWARD_CURSOR_FILE} is for an earlier version of ${logPath} (it ` +
            `was compacted while not forwarding); forwarding starts with new batches`,
        },
      };
    }
    if (match.offset !== log.sizeBytes && !match.boundary) {
      return fromStart(`offset ${match.offset} is not a record boundary`);
    }
    const resumed: ResumeAt = { offset: match.offset, pendingRecords: match.after };
    if (saved.url !== '' && saved.url !== this.url) {
      resumed.note = {
        level: 'info',
        message: `forwarding resumes where it stopped for ${saved.url}, now to ${this.url}`,
      };
    }
    return resumed;
  }
}
