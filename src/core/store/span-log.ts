/**
 * The persistence log behind `stagelight serve --data <dir>`: every accepted OTLP batch (the raw
 * protobuf `ExportTraceServiceRequest` bytes, opaque here) is appended as one record and replayed
 * at start, so traces survive a restart or a window reload.
 *
 * ## On-disk format (all integers little-endian)
 *
 * ```
 * file header, 16 bytes
 *   0  8  magic "STLSPANS" (53 54 4C 53 50 41 4E 53)
 *   8  4  u32 format version (FORMAT_VERSION = 1)
 *  12  4  u32 generation: 0 for a new log, +1 at every rewrite (versions before it wrote 0 and
 *           ignored it on read, so the format version did not change)
 * then records, back to back
 *   0  4  u32 sync word 0xD31C5EA7 (bytes A7 5E 1C D3)
 *   4  4  u32 payload length N
 *   8  4  u32 crc32 of the payload
 *  12  4  u32 crc32 of header bytes 0..11
 *  16  N  payload
 * ```
 *
 * The header checksum is what lets replay trust a length before acting on it: a length is only
 * believed once sync word and header CRC agree, so a flipped bit never makes replay allocate or
 * skip a bogus amount. Sync word + header CRC + payload CRC together are what a resync accepts, so
 * a false match inside garbage needs 96 bits to line up by chance.
 *
 * ## Durability
 *
 * Each record goes to the file in one `write(2)` of header + payload on an `O_APPEND` descriptor,
 * so a killed process (SIGKILL, a crash, a closed window) loses at most the record being written,
 * which replay then finds as a torn tail and truncates. Records are NOT fsynced one by one:
 * surviving an OS crash or power loss is not a goal (the data is a local development trace
 * buffer), and an fsync per batch would cost more than the rest of ingest. `flush()` and `close()`
 * fsync. Compaction (`rewrite`) does fsync, because it replaces data that is already safe.
 *
 * The generation tells a reader holding a byte offset (the forwarder's cursor, which lives in a
 * file beside the log) which rewrite that offset belongs to: offsets mean nothing across one.
 *
 * Everything is synchronous on purpose: appends must be ordered with ingest and survive the
 * process dying right after `append` returns, and replay runs once at start-up.
 *
 * One process owns a log at a time; two writers on one file are not detected (no lock).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';

/** Current on-disk format version, written in the file header. */
export const SPAN_LOG_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('STLSPANS', 'latin1');
const FILE_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 16;
const SYNC_WORD = 0xd31c5ea7;
const SYNC_BYTES = Buffer.from([0xa7, 0x5e, 0x1c, 0xd3]);
/** Largest length the u32 length field can carry. */
const MAX_ENCODABLE_RECORD_BYTES = 0xffffffff;
const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Read window for replay and the batching unit for rewrite; records bigger than it are read alone. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * The only error `SpanLog` throws. `cause` holds the underlying system error, if any, and `code`
 * repeats its errno code (`ENOSPC`, `EACCES`, ...) so a caller can report it without digging.
 */
export class SpanLogError extends Error {
  /** errno-style code of the cause, e.g. `ENOSPC`; undefined for format errors. */
  readonly code: string | undefined;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpanLogError';
    const cause: unknown = options?.cause;
    this.code =
      typeof cause === 'object' && cause !== null && typeof Reflect.get(cause, 'code') === 'string'
        ? (Reflect.get(cause, 'code') as string)
        : undefined;
  }
}

/** A byte range that replay could not read as records. Offsets are absolute file offsets. */
export interface CorruptRegion {
  offset: number;
  length: number;
  reason: string;
}

/** A record that was intact on disk but that `onRecord` threw for (an undecodable payload). */
export interface SkippedRecord {
  /** File offset of the record header. */
  offset: number;
  /** Payload length. */
  length: number;
  /** The message of what `onRecord` threw. */
  reason: string;
}

/** What `SpanLog.open` found while replaying. */
export interface ReplayReport {
  /** Records replayed and accepted by `onRecord`. */
  records: number;
  /** Payload bytes of those records. */
  bytes: number;
  /**
   * Regions that were not valid records, in file order. Mid-file regions stay on disk (until the
   * next `rewrite`) and are reported again at every open; a torn or unreadable tail is the last
   * entry and has been truncated away.
   */
  corrupt: CorruptRegion[];
  /** Intact records that `onRecord` threw for; they remain in the log. */
  skipped: SkippedRecord[];
  /** Bytes cut from the end of the file (a torn last record or trailing garbage); 0 if none. */
  truncatedBytes: number;
}

/** Fault-injection points for crash tests. Never set outside tests. */
export interface SpanLogFaults {
  /** Runs in `rewrite` after the temporary file is written and fsynced, before the rename. */
  beforeRename?: () => void;
}

/** Options for `SpanLog.open`. */
export interface SpanLogOptions {
  /**
   * Largest payload `append` accepts and replay will allocate for (default 64 MiB). A valid record
   * above it (written with a larger limit) is checksummed in chunks, then skipped and reported.
   */
  maxRecordBytes?: number;
  /**
   * Receives every valid payload in file order, synchronously during `open`, with the file offset
   * of its record header. The array is a fresh copy the callee may keep. If it throws, the record
   * is reported in `skipped` and replay goes on.
   */
  onRecord: (payload: Uint8Array, offset: number) => void;
  /** Test-only fault injection. */
  faults?: SpanLogFaults;
}

/** Options for `SpanLog.rewrite`. */
export interface RewriteOptions {
  /**
   * Copy the bytes from this offset to the end of the log, verbatim, after the new payloads (a
   * record boundary, e.g. a reader's cursor). Whatever a reader has not consumed yet survives the
   * compaction, at `RewriteResult.keptAt + (offset - keepFrom)` in the new file.
   */
  keepFrom?: number;
  /**
   * Runs once the new log is complete and fsynced, just before it replaces the old one. A reader
   * saves its cursor for both generations here; if it throws, the rewrite is abandoned and the
   * old log stays (the error is thrown as a `SpanLogError`).
   */
  beforeCommit?: (next: RewriteResult) => void;
}

/** Where a rewrite put things. */
export interface RewriteResult {
  /** Generation of the new log. */
  generation: number;
  /** Offset in the new log where the bytes from `keepFrom` start (its size when none were kept). */
  keptAt: number;
  /** Bytes copied from `keepFrom` to the end of the old log. */
  keptBytes: number;
}

/** The result of `SpanLog.open`. */
export interface OpenedSpanLog {
  log: SpanLog;
  report: ReplayReport;
}

/**
 * An append-only, checksummed log of opaque payloads. See the module comment for the format and
 * the durability promise.
 *
 * Invariant: between calls, the file is a valid header followed by records, except for corrupt
 * mid-file regions replay already reported; `sizeBytes` is the file's size and the descriptor
 * appends at its end.
 */
export class SpanLog {
  /** Size of the file header, for callers estimating what a rewrite would produce. */
  static readonly FILE_HEADER_BYTES = FILE_HEADER_BYTES;
  /** Per-record overhead on top of the payload. */
  static readonly RECORD_HEADER_BYTES = RECORD_HEADER_BYTES;

  private fd: number | undefined;
  private size: number;
  private records: number;
  private payloadTotal: number;
  private gen: number;

  private constructor(
    /** Path of the log file. */
    readonly path: string,
    fd: number,
    size: number,
    records: number,
    payloadTotal: number,
    generation: number,
    /** Largest payload `append` accepts and replay allocates for. */
    readonly maxRecordBytes: number,
    private readonly faults: SpanLogFaults | undefined,
  ) {
    this.fd = fd;
    this.size = size;
    this.records = records;
    this.payloadTotal = payloadTotal;
    this.gen = generation;
  }

  /**
   * Opens (creating directory and file if missing) and replays the log at `logPath`.
   *
   * Synchronous: it returns when replay is done; `await SpanLog.open(...)` also works. It removes
   * a stale compaction temp file left by a crash, truncates a torn tail, and skips (and reports)
   * corrupt records in the middle. It throws `SpanLogError` only when the file is not a span log
   * (bad magic, unsupported version) or cannot be opened or read; such a file is left untouched.
   */
  static open(logPath: string, options: SpanLogOptions): OpenedSpanLog {
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (
      !Number.isSafeInteger(maxRecordBytes) ||
      maxRecordBytes < 0 ||
      maxRecordBytes > MAX_ENCODABLE_RECORD_BYTES
    ) {
      throw new SpanLogError(
        `maxRecordBytes must be an integer in [0, 2^32-1], got ${maxRecordBytes}`,
      );
    }

    try {
      fs.mkdirSync(path.dirname(logPath), { recursive: true });
      // A temp file can only be left by a crash mid-rewrite, before its rename: the log itself is
      // still the complete old one, so the temp is garbage.
      fs.rmSync(tempPathFor(logPath), { force: true });
    } catch (cause) {
      throw new SpanLogError(`cannot prepare span log ${logPath}: ${messageOf(cause)}`, { cause });
    }

    let fd: number;
    try {
      // O_APPEND makes every write land at the end whatever the file offset; positional reads
      // (pread) and ftruncate still work on the same descriptor.
      fd = fs.openSync(
        logPath,
        fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND,
        0o644,
      );
    } catch (cause) {
      throw new SpanLogError(`cannot open span log ${logPath}: ${messageOf(cause)}`, { cause });
    }

    try {
      const report: ReplayReport = {
        records: 0,
        bytes: 0,
        corrupt: [],
        skipped: [],
        truncatedBytes: 0,
      };
      const { start, generation } = readFileHeader(fd, logPath, report);
      const state = replay(fd, start, maxRecordBytes, options.onRecord, report);
      const log = new SpanLog(
        logPath,
        fd,
        state.size,
        state.records,
        state.payloadBytes,
        generation,
        maxRecordBytes,
        options.faults,
      );
      return { log, report };
    } catch (error) {
      closeQuietly(fd);
      if (error instanceof SpanLogError) throw error;
      throw new SpanLogError(`cannot open span log ${logPath}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /** Current size of the log file in bytes, header included. */
  get sizeBytes(): number {
    return this.size;
  }

  /** Valid records in the file: replayed ones (including those `onRecord` rejected) plus appended. */
  get recordCount(): number {
    return this.records;
  }

  /**
   * Sum of the payload lengths of `recordCount` records. `sizeBytes - payloadBytes` is framing
   * plus corrupt regions; a store compares `sizeBytes` with what it still holds to decide when to
   * `rewrite`.
   */
  get payloadBytes(): number {
    return this.payloadTotal;
  }

  /** Generation of the file (see the module comment): 0 when created, +1 per `rewrite`. */
  get generation(): number {
    return this.gen;
  }

  /** Whether `close()` has been called (or a failed rewrite left no file to append to). */
  get closed(): boolean {
    return this.fd === undefined;
  }

  /** File size a log holding exactly these payload sizes would have; what a `rewrite` produces. */
  static encodedSize(payloadBytes: number, records: number): number {
    return FILE_HEADER_BYTES + records * RECORD_HEADER_BYTES + payloadBytes;
  }

  /**
   * Appends one record with a single write. Throws `SpanLogError` if the log is closed, the
   * payload exceeds `maxRecordBytes`, or the write fails (disk full, EACCES, ...); after a failed
   * write the partial record is truncated away, and if even that fails the torn bytes are left as
   * a mid-file corrupt region that replay will skip, so later appends are still readable.
   */
  append(payload: Uint8Array): void {
    const fd = this.requireOpen();
    if (payload.length > this.maxRecordBytes) {
      throw new SpanLogError(
        `record of ${payload.length} bytes exceeds maxRecordBytes (${this.maxRecordBytes})`,
      );
    }
    const record = encodeRecord(payload);
    try {
      writeFully(fd, record);
    } catch (cause) {
      this.rollBackTo(fd, this.size);
      throw new SpanLogError(`cannot append to span log ${this.path}: ${messageOf(cause)}`, {
        cause,
      });
    }
    this.size += record.length;
    this.records += 1;
    this.payloadTotal += payload.length;
  }

  /** Forces appended records to stable storage (fsync). Not needed for crash-of-process safety. */
  flush(): void {
    const fd = this.requireOpen();
    try {
      fs.fsyncSync(fd);
    } catch (cause) {
      throw new SpanLogError(`cannot fsync span log ${this.path}: ${messageOf(cause)}`, { cause });
    }
  }

  /**
   * Compaction: replaces the log with one holding exactly `payloads`, in order, and goes on
   * appending to it. Writes `<log>.rewrite.tmp` in the same directory, fsyncs it, and renames it
   * over the log, so a crash at any point leaves either the complete old log or the complete new
   * one (a leftover temp file is removed at the next `open`). On failure it throws `SpanLogError`
   * and the old log stays in place and open for appends.
   *
   * With `keepFrom`, the old log's bytes from that offset on follow the payloads unchanged (see
   * `RewriteOptions`). They are not parsed, so `recordCount` and `payloadBytes` leave them out
   * until the next `open` counts them.
   */
  rewrite(payloads: Iterable<Uint8Array>, options: RewriteOptions = {}): RewriteResult {
    const oldFd = this.requireOpen();
    const keepFrom = options.keepFrom ?? this.size;
    if (!Number.isSafeInteger(keepFrom) || keepFrom < FILE_HEADER_BYTES || keepFrom > this.size) {
      throw new SpanLogError(
        `keepFrom must be an offset from ${FILE_HEADER_BYTES} to ${this.size}, got ${keepFrom}`,
      );
    }
    const generation = (this.gen + 1) >>> 0;
    const tempPath = tempPathFor(this.path);
    let tempFd: number | undefined;
    let size = 0;
    let records = 0;
    let payloadTotal = 0;
    let keptAt = 0;
    try {
      tempFd = fs.openSync(
        tempPath,
        fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND,
        0o644,
      );
      const pending: Buffer[] = [encodeFileHeader(generation)];
      let pendingBytes = FILE_HEADER_BYTES;
      for (const payload of payloads) {
        if (payload.length > this.maxRecordBytes) {
          throw new SpanLogError(
            `record of ${payload.length} bytes exceeds maxRecordBytes (${this.maxRecordBytes})`,
          );
        }
        const record = encodeRecord(payload);
        pending.push(record);
        pendingBytes += record.length;
        records += 1;
        payloadTotal += payload.length;
        if (pendingBytes >= CHUNK_BYTES) {
          writeFully(tempFd, Buffer.concat(pending, pendingBytes));
          size += pendingBytes;
          pending.length = 0;
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) {
        writeFully(tempFd, Buffer.concat(pending, pendingBytes));
        size += pendingBytes;
      }
      keptAt = size;
      size += copyRange(oldFd, keepFrom, this.size, tempFd);
      // Without this, a rename that reaches disk before the data could leave an empty log after
      // an OS crash, losing data that was safe in the old log.
      fs.fsyncSync(tempFd);
      options.beforeCommit?.({ generation, keptAt, keptBytes: size - keptAt });
      this.faults?.beforeRename?.();
    } catch (cause) {
      if (tempFd !== undefined) closeQuietly(tempFd);
      removeQuietly(tempPath);
      if (cause instanceof SpanLogError) throw cause;
      throw new SpanLogError(`cannot write compacted span log ${tempPath}: ${messageOf(cause)}`, {
        cause,
      });
    }

    // Closed before the rename because Windows refuses to replace a file that is still open.
    closeQuietly(oldFd);
    this.fd = undefined;
    try {
      fs.renameSync(tempPath, this.path);
    } catch (cause) {
      closeQuietly(tempFd);
      removeQuietly(tempPath);
      this.reopenAfterFailedRewrite();
      throw new SpanLogError(`cannot replace span log ${this.path}: ${messageOf(cause)}`, {
        cause,
      });
    }
    // The descriptor followed the file through the rename: it now appends to the log itself.
    this.fd = tempFd;
    this.size = size;
    this.records = records;
    this.payloadTotal = payloadTotal;
    this.gen = generation;
    fsyncDirectoryQuietly(path.dirname(this.path));
    return { generation, keptAt, keptBytes: size - keptAt };
  }

  /** Fsyncs and closes the log. Idempotent; a failing fsync is thrown after the close. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    let failure: unknown;
    try {
      fs.fsyncSync(fd);
    } catch (cause) {
      failure = cause;
    }
    closeQuietly(fd);
    if (failure !== undefined) {
      throw new SpanLogError(`cannot fsync span log ${this.path}: ${messageOf(failure)}`, {
        cause: failure,
      });
    }
  }

  private requireOpen(): number {
    if (this.fd === undefined) throw new SpanLogError(`span log ${this.path} is closed`);
    return this.fd;
  }

  /** Best effort: undo a partial append so the file ends on a record boundary again. */
  private rollBackTo(fd: number, size: number): void {
    try {
      fs.ftruncateSync(fd, size);
    } catch {
      try {
        this.size = fs.fstatSync(fd).size;
      } catch {
        // Keep the old size; replay will skip whatever torn bytes are there.
      }
    }
  }

  /** After a failed rename the old file is still the log; reopen it so appends go on. */
  private reopenAfterFailedRewrite(): void {
    try {
      const fd = fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_APPEND);
      this.size = fs.fstatSync(fd).size;
      this.fd = fd;
    } catch {
      // Leave the log closed: every later append throws SpanLogError rather than writing blindly.
    }
  }
}

/**
 * Checks the record header at `at` in `bytes` (sync word and header checksum) and returns the
 * payload length and checksum it vouches for, or undefined. For readers of a live log outside
 * this module (`span-log-reader.ts`); the payload checksum is theirs to verify.
 */
export function parseRecordHeader(
  bytes: Uint8Array,
  at: number,
): { length: number; payloadCrc: number } | undefined {
  if (at + RECORD_HEADER_BYTES > bytes.length) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset + at, RECORD_HEADER_BYTES);
  if (view.readUInt32LE(0) !== SYNC_WORD) return undefined;
  if (crc32(view.subarray(0, 12)) !== view.readUInt32LE(12)) return undefined;
  return { length: view.readUInt32LE(4), payloadCrc: view.readUInt32LE(8) };
}

/** The sync word as it appears on disk, for resynchronising after a corrupt region. */
export const RECORD_SYNC_BYTES: Uint8Array = Uint8Array.from(SYNC_BYTES);

function tempPathFor(logPath: string): string {
  return `${logPath}.rewrite.tmp`;
}

function encodeFileHeader(generation = 0): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(SPAN_LOG_FORMAT_VERSION, 8);
  header.writeUInt32LE(generation, 12);
  return header;
}

/** Appends bytes [from, to) of `fromFd` to `toFd` a chunk at a time; returns the bytes copied. */
function copyRange(fromFd: number, from: number, to: number, toFd: number): number {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(0, to - from)));
  for (let at = from; at < to; at += chunk.length) {
    const view = chunk.subarray(0, Math.min(chunk.length, to - at));
    readFully(fromFd, view, at);
    writeFully(toFd, view);
  }
  return to - from;
}

function encodeRecord(payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(SYNC_WORD, 0);
  record.writeUInt32LE(payload.length, 4);
  record.writeUInt32LE(crc32(payload), 8);
  record.writeUInt32LE(crc32(record.subarray(0, 12)), 12);
  record.set(payload, RECORD_HEADER_BYTES);
  return record;
}

/**
 * Validates or creates the file header and returns the offset of the first record and the log's
 * generation. A file shorter than a header that is a prefix of ours is a log whose creation was
 * interrupted: it is reset.
 */
function readFileHeader(
  fd: number,
  logPath: string,
  report: ReplayReport,
): { start: number; generation: number } {
  const size = fs.fstatSync(fd).size;
  const expected = encodeFileHeader();
  if (size < FILE_HEADER_BYTES) {
    const existing = Buffer.alloc(size);
    readFully(fd, existing, 0);
    if (!existing.equals(expected.subarray(0, size))) {
      throw new SpanLogError(`${logPath} is not a Stagelight span log (bad magic)`);
    }
    if (size > 0) {
      report.corrupt.push({ offset: 0, length: size, reason: 'torn file header' });
      report.truncatedBytes = size;
      fs.ftruncateSync(fd, 0);
    }
    writeFully(fd, expected);
    return { start: FILE_HEADER_BYTES, generation: 0 };
  }
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  readFully(fd, header, 0);
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new SpanLogError(`${logPath} is not a Stagelight span log (bad magic)`);
  }
  const version = header.readUInt32LE(8);
  if (version !== SPAN_LOG_FORMAT_VERSION) {
    throw new SpanLogError(
      `${logPath} has span log format version ${version}; this Stagelight reads version ${SPAN_LOG_FORMAT_VERSION}`,
    );
  }
  return { start: FILE_HEADER_BYTES, generation: header.readUInt32LE(12) };
}

type Probe =
  | { kind: 'record'; payload: Uint8Array; end: number }
  | { kind: 'oversized'; length: number; end: number }
  | { kind: 'invalid'; reason: string };

/**
 * Positional reader over the file as it was at the start of replay, with a read-ahead window so
 * small records cost no syscall each.
 */
class ReplayReader {
  private readonly window = Buffer.allocUnsafe(CHUNK_BYTES);
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes [pos, pos+n) as a view that is valid until the next call; n <= CHUNK_BYTES, in bounds. */
  view(pos: number, n: number): Buffer {
    if (pos < this.windowStart || pos + n > this.windowStart + this.windowLength) {
      const length = Math.min(CHUNK_BYTES, this.size - pos);
      readFully(this.fd, this.window.subarray(0, length), pos);
      this.windowStart = pos;
      this.windowLength = length;
    }
    return this.window.subarray(pos - this.windowStart, pos - this.windowStart + n);
  }

  /** A fresh copy of [pos, pos+n); the caller has bounded n by maxRecordBytes and the file. */
  copy(pos: number, n: number): Uint8Array {
    if (n <= CHUNK_BYTES) return new Uint8Array(this.view(pos, n));
    const out = Buffer.allocUnsafe(n);
    readFully(this.fd, out, pos);
    return out;
  }

  /** crc32 of [pos, pos+n) without holding more than one window of it. */
  crc(pos: number, n: number): number {
    let value = 0;
    for (let at = pos; at < pos + n; at += CHUNK_BYTES) {
      value = crc32(this.view(at, Math.min(CHUNK_BYTES, pos + n - at)), value);
    }
    return value;
  }

  /**
   * Decodes the record at `pos`. A length is acted on only after the header CRC vouches for it,
   * and memory is allocated only for lengths within maxRecordBytes and the file.
   */
  probe(pos: number, maxRecordBytes: number): Probe {
    if (pos + RECORD_HEADER_BYTES > this.size) {
      return { kind: 'invalid', reason: 'partial record header' };
    }
    const header = this.view(pos, RECORD_HEADER_BYTES);
    if (header.readUInt32LE(0) !== SYNC_WORD) return { kind: 'invalid', reason: 'bad sync word' };
    const length = header.readUInt32LE(4);
    const payloadCrc = header.readUInt32LE(8);
    if (crc32(header.subarray(0, 12)) !== header.readUInt32LE(12)) {
      return { kind: 'invalid', reason: 'record header checksum mismatch' };
    }
    const end = pos + RECORD_HEADER_BYTES + length;
    if (end > this.size) {
      return { kind: 'invalid', reason: `record length ${length} runs past the end of the file` };
    }
    if (length > maxRecordBytes) {
      if (this.crc(pos + RECORD_HEADER_BYTES, length) !== payloadCrc) {
        return { kind: 'invalid', reason: 'payload checksum mismatch' };
      }
      return { kind: 'oversized', length, end };
    }
    const payload = this.copy(pos + RECORD_HEADER_BYTES, length);
    if (crc32(payload) !== payloadCrc) {
      return { kind: 'invalid', reason: 'payload checksum mismatch' };
    }
    return { kind: 'record', payload, end };
  }

  /** First offset >= from holding a fully valid record, with its probe; undefined if none. */
  findNext(
    from: number,
    maxRecordBytes: number,
  ): { offset: number; probe: Exclude<Probe, { kind: 'invalid' }> } | undefined {
    let at = from;
    while (at + RECORD_HEADER_BYTES <= this.size) {
      const length = Math.min(CHUNK_BYTES, this.size - at);
      const index = this.view(at, length).indexOf(SYNC_BYTES);
      if (index < 0) {
        // Keep 3 bytes of overlap so a sync word straddling two windows is still found.
        at += length - (SYNC_BYTES.length - 1);
        continue;
      }
      const candidate = at + index;
      const probe = this.probe(candidate, maxRecordBytes);
      if (probe.kind !== 'invalid') return { offset: candidate, probe };
      at = candidate + 1;
    }
    return undefined;
  }
}

function replay(
  fd: number,
  start: number,
  maxRecordBytes: number,
  onRecord: (payload: Uint8Array, offset: number) => void,
  report: ReplayReport,
): { size: number; records: number; payloadBytes: number } {
  const reader = new ReplayReader(fd, fs.fstatSync(fd).size);
  let records = 0;
  let payloadBytes = 0;
  let pos = start;
  let probe = pos < reader.size ? reader.probe(pos, maxRecordBytes) : undefined;
  while (probe !== undefined) {
    if (probe.kind === 'invalid') {
      const next = reader.findNext(pos + 1, maxRecordBytes);
      if (next === undefined) {
        // Nothing valid follows: a record torn by a crash, or trailing garbage. Cutting it keeps
        // the invariant that appends follow a record boundary.
        const length = reader.size - pos;
        report.corrupt.push({ offset: pos, length, reason: `torn tail: ${probe.reason}` });
        report.truncatedBytes += length;
        fs.ftruncateSync(fd, pos);
        return { size: pos, records, payloadBytes };
      }
      report.corrupt.push({ offset: pos, length: next.offset - pos, reason: probe.reason });
      pos = next.offset;
      probe = next.probe;
      continue;
    }
    if (probe.kind === 'oversized') {
      report.corrupt.push({
        offset: pos,
        length: probe.end - pos,
        reason: `record of ${probe.length} bytes exceeds maxRecordBytes (${maxRecordBytes})`,
      });
    } else {
      records += 1;
      payloadBytes += probe.payload.length;
      try {
        onRecord(probe.payload, pos);
        report.records += 1;
        report.bytes += probe.payload.length;
      } catch (error) {
        report.skipped.push({
          offset: pos,
          length: probe.payload.length,
          reason: messageOf(error),
        });
      }
    }
    pos = probe.end;
    probe = pos < reader.size ? reader.probe(pos, maxRecordBytes) : undefined;
  }
  return { size: pos, records, payloadBytes };
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) {
      throw new SpanLogError(`span log shrank while being read (short read at ${position + done})`);
    }
    done += n;
  }
}

/** write(2) may write less than asked (disk nearly full); loop until all is written or it throws. */
function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing useful to do: the descriptor is gone either way.
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // A leftover temp file is removed at the next open.
  }
}

/**
 * Makes a rename durable on POSIX; directories cannot be opened this way on Windows. Also used
 * by the forwarder's cursor file.
 */
export function fsyncDirectoryQuietly(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort: OS-crash durability is not a goal (see the module comment).
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
