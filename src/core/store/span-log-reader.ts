/**
 * Reads whole records of a live span log by byte offset, asynchronously and a window at a time:
 * how the forwarder follows the log like a write-ahead-log reader (`receiver/forward-log-source.ts`)
 * without blocking the event loop, however far behind the upstream is.
 *
 * What the caller guarantees: `end` is where the last complete record ends (`SpanLog.sizeBytes`
 * after an `append` returned), so nothing in [from, end) is still being written; `from` is a record
 * boundary, or the start of a corrupt region. Bytes that are not a valid record (a region replay
 * already reported, the leftover of a failed append) are stepped over the way replay does: a
 * resync point needs sync word, header checksum and payload checksum to agree.
 *
 * The file is opened for each read and closed before it returns, so no descriptor stays open
 * across a compaction (Windows cannot replace a file that is open). A read that raced a rewrite
 * may see either file; the caller tells by the log's generation and discards it.
 */
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { parseRecordHeader, RECORD_SYNC_BYTES, SpanLog } from './span-log.js';

const HEADER = SpanLog.RECORD_HEADER_BYTES;
/** Read beyond the payload budget so the record that crosses it usually comes in the same read. */
const WINDOW_SLACK = 64 * 1024;

/** One record: its header's offset, the offset after it, and the payload (a view, not shared). */
export interface LogRecordAt {
  offset: number;
  end: number;
  payload: Uint8Array;
}

/** What one read found. */
export interface LogRead {
  /** Complete, checksummed records in file order. */
  records: LogRecordAt[];
  /** Where the next read starts: after the last record or skipped region. */
  next: number;
  /** Byte ranges that were not records, in file order. */
  skipped: Array<{ offset: number; length: number }>;
}

export interface LogReadOptions {
  /** Stop once this many payload bytes were read (at least one record is returned, if any). */
  maxBytes: number;
  /** A length above this is taken for corruption (the log's own `maxRecordBytes`). */
  maxRecordBytes: number;
}

/** Reads the records in [from, end) of the log file at `file`, up to `maxBytes` of payload. */
export async function readLogRecords(
  file: string,
  from: number,
  end: number,
  options: LogReadOptions,
): Promise<LogRead> {
  const out: LogRead = { records: [], next: from, skipped: [] };
  if (from >= end) return out;
  const handle = await fs.promises.open(file, 'r');
  try {
    const readSize = (at: number) => Math.min(end - at, options.maxBytes + WINDOW_SLACK);
    let windowStart = from;
    let window = await readAt(handle, from, readSize(from));
    const windowEnd = () => windowStart + window.length;
    const skip = (offset: number, length: number) => {
      const last = out.skipped[out.skipped.length - 1];
      if (last !== undefined && last.offset + last.length === offset) last.length += length;
      else out.skipped.push({ offset, length });
    };
    let pos = from;
    let payloadBytes = 0;
    while (pos < end && payloadBytes < options.maxBytes) {
      if (pos + HEADER > end) {
        // Too short to be a record, and `end` is a record boundary: garbage before it.
        skip(pos, end - pos);
        pos = end;
        break;
      }
      if (pos + HEADER > windowEnd()) {
        if (out.records.length > 0) break;
        windowStart = pos;
        window = await readAt(handle, pos, readSize(pos));
      }
      const header = parseRecordHeader(window, pos - windowStart);
      if (
        header !== undefined &&
        header.length <= options.maxRecordBytes &&
        pos + HEADER + header.length <= end
      ) {
        const recordEnd = pos + HEADER + header.length;
        if (recordEnd > windowEnd()) {
          // Return what is complete first; a record larger than a window is read on its own.
          if (out.records.length > 0) break;
          windowStart = pos;
          window = await readAt(handle, pos, recordEnd - pos);
        }
        const payload = window.subarray(pos - windowStart + HEADER, recordEnd - windowStart);
        if (crc32(payload) === header.payloadCrc) {
          out.records.push({ offset: pos, end: recordEnd, payload });
          payloadBytes += payload.length;
          pos = recordEnd;
          continue;
        }
      }
      // Not a record at `pos`: step to the next sync word in the window (or near its end, keeping
      // 3 bytes so a sync word across two windows is still found) and try again there.
      const found = window.indexOf(RECORD_SYNC_BYTES, pos - windowStart + 1);
      let next: number;
      if (found >= 0) next = windowStart + found;
      else if (windowEnd() >= end) next = end;
      else next = Math.max(pos + 1, windowEnd() - (RECORD_SYNC_BYTES.length - 1));
      skip(pos, next - pos);
      pos = next;
    }
    out.next = pos;
    return out;
  } finally {
    await handle.close();
  }
}

async function readAt(
  handle: fs.promises.FileHandle,
  position: number,
  n: number,
): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(n);
  let done = 0;
  while (done < n) {
    const { bytesRead } = await handle.read(buffer, done, n - done, position + done);
    if (bytesRead === 0) {
      throw new Error(`span log is shorter than expected (short read at ${position + done})`);
    }
    done += bytesRead;
  }
  return buffer;
}
