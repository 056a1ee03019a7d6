import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  SpanLog,
  SpanLogError,
  type OpenedSpanLog,
  type SpanLogOptions,
} from '../../src/core/store/span-log.js';
import { checkSeqPayload, makeSeqPayload, rewriteSet } from './fixtures/span-log-payloads.js';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const WRITER = path.join(__dirname, 'fixtures', 'span-log-writer.ts');
const HEADER = SpanLog.FILE_HEADER_BYTES;
const REC = SpanLog.RECORD_HEADER_BYTES;

let root: string;
let counter = 0;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'stagelight-span-log-'));
});

after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh log path in its own directory (which does not exist yet). */
function freshLogPath(): string {
  counter += 1;
  return path.join(root, `case-${counter}`, 'spans.log');
}

function text(payload: Uint8Array): string {
  return Buffer.from(payload).toString('utf8');
}

/** Opens the log and returns what replay delivered alongside the usual result. */
function openCollect(
  logPath: string,
  options: Partial<SpanLogOptions> = {},
): OpenedSpanLog & { payloads: Uint8Array[] } {
  const payloads: Uint8Array[] = [];
  const opened = SpanLog.open(logPath, { onRecord: (p) => payloads.push(p), ...options });
  return { ...opened, payloads };
}

/** Writes a log holding `payloads` and returns the offset of each record. */
function writeLog(logPath: string, payloads: Uint8Array[]): number[] {
  const { log } = openCollect(logPath);
  const offsets: number[] = [];
  for (const payload of payloads) {
    offsets.push(log.sizeBytes);
    log.append(payload);
  }
  log.close();
  return offsets;
}

function texts(...names: string[]): Uint8Array[] {
  return names.map((name) => Buffer.from(name));
}

/** Runs the writer fixture; resolves once it printed `ready` (or exited, for modes without it). */
function startWriter(mode: string, logPath: string, extraArgs: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, mode, logPath, ...extraArgs], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('ready\n')) resolve();
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`writer exited (${code ?? signal}) before ready: ${stderr}`)),
    );
  });
  // Modes that never print `ready` leave this rejection unobserved; awaiting it still throws.
  ready.catch(() => undefined);
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('SpanLog', () => {
  it('round-trips many records of various sizes, including empty and 1 MiB', () => {
    const logPath = freshLogPath();
    const payloads: Uint8Array[] = [new Uint8Array(0), randomBytes(1024 * 1024)];
    for (let i = 0; i < 500; i++) payloads.push(randomBytes((i * 37) % 3000));
    payloads.push(new Uint8Array(0), randomBytes(1024 * 1024 + 17));

    writeLog(logPath, payloads);
    const { log, report, payloads: replayed } = openCollect(logPath);
    try {
      assert.equal(replayed.length, payloads.length);
      replayed.forEach((p, i) => assert.deepEqual(Buffer.from(p), Buffer.from(payloads[i]!)));
      const totalPayload = payloads.reduce((sum, p) => sum + p.length, 0);
      assert.deepEqual(report, {
        records: payloads.length,
        bytes: totalPayload,
        corrupt: [],
        skipped: [],
        truncatedBytes: 0,
      });
      assert.equal(log.recordCount, payloads.length);
      assert.equal(log.payloadBytes, totalPayload);
      assert.equal(log.sizeBytes, fs.statSync(logPath).size);
      assert.equal(log.sizeBytes, SpanLog.encodedSize(totalPayload, payloads.length));
    } finally {
      log.close();
    }
  });

  it('creates directory and file, and continues appending across reopens', () => {
    const logPath = freshLogPath();
    const first = openCollect(logPath);
    assert.equal(first.payloads.length, 0);
    assert.equal(first.log.sizeBytes, HEADER);
    first.log.append(Buffer.from('a'));
    first.log.append(Buffer.from('b'));
    first.log.close();
    first.log.close(); // idempotent

    const second = openCollect(logPath);
    assert.deepEqual(second.payloads.map(text), ['a', 'b']);
    second.log.append(Buffer.from('c'));
    second.log.flush();
    second.log.close();

    const third = openCollect(logPath);
    assert.deepEqual(third.payloads.map(text), ['a', 'b', 'c']);
    assert.equal(third.log.recordCount, 3);
    third.log.close();
    assert.throws(() => third.log.append(Buffer.from('d')), SpanLogError);
  });

  it('truncates a torn last record at every possible cut and keeps everything before it', () => {
    const logPath = freshLogPath();
    const payloads = texts(
      'first record',
      'the second record',
      'the last record, forty bytes long.......',
    );
    const offsets = writeLog(logPath, payloads);
    const full = fs.readFileSync(logPath);
    const lastStart = offsets[2]!;
    assert.equal(full.length, lastStart + REC + 40);

    for (let cut = lastStart; cut < full.length; cut++) {
      fs.writeFileSync(logPath, full.subarray(0, cut));
      const { log, report, payloads: replayed } = openCollect(logPath);
      assert.deepEqual(replayed.map(text), ['first record', 'the second record'], `cut ${cut}`);
      if (cut === lastStart) {
        assert.deepEqual(report.corrupt, []);
      } else {
        assert.equal(report.corrupt.length, 1, `cut ${cut}`);
        assert.equal(report.corrupt[0]!.offset, lastStart);
        assert.equal(report.corrupt[0]!.length, cut - lastStart);
        assert.match(report.corrupt[0]!.reason, /^torn tail/);
      }
      assert.equal(report.truncatedBytes, cut - lastStart);
      assert.equal(log.sizeBytes, lastStart);
      assert.equal(fs.statSync(logPath).size, lastStart);
      log.append(Buffer.from('after recovery'));
      log.close();

      const reopened = openCollect(logPath);
      assert.deepEqual(reopened.payloads.map(text), [
        'first record',
        'the second record',
        'after recovery',
      ]);
      assert.deepEqual(reopened.report.corrupt, []);
      reopened.log.close();
    }
  });

  it('recovers a file whose header was torn at creation', () => {
    const logPath = freshLogPath();
    writeLog(logPath, []);
    const header = fs.readFileSync(logPath);
    assert.equal(header.length, HEADER);
    for (let cut = 0; cut < HEADER; cut++) {
      fs.writeFileSync(logPath, header.subarray(0, cut));
      const { log, report, payloads } = openCollect(logPath);
      assert.equal(payloads.length, 0);
      assert.equal(report.truncatedBytes, cut);
      log.append(Buffer.from('x'));
      log.close();
      const reopened = openCollect(logPath);
      assert.deepEqual(reopened.payloads.map(text), ['x']);
      reopened.log.close();
    }
  });

  it('skips a record with any one byte flipped and replays the ones after it', () => {
    const logPath = freshLogPath();
    const names = ['record-0', 'record-1', 'record-2 with a longer body', 'record-3', 'record-4'];
    const offsets = writeLog(logPath, texts(...names));
    const pristine = fs.readFileSync(logPath);
    const start = offsets[2]!;
    const length = REC + names[2]!.length;

    // Every byte of the record: sync word, length, both checksums, payload.
    for (let i = start; i < start + length; i++) {
      const damaged = Buffer.from(pristine);
      damaged[i] = damaged[i]! ^ 0x41;
      fs.writeFileSync(logPath, damaged);
      const { log, report, payloads } = openCollect(logPath);
      assert.deepEqual(
        payloads.map(text),
        ['record-0', 'record-1', 'record-3', 'record-4'],
        `flip at ${i}`,
      );
      assert.equal(report.corrupt.length, 1);
      assert.deepEqual(
        { offset: report.corrupt[0]!.offset, length: report.corrupt[0]!.length },
        { offset: start, length },
      );
      assert.equal(report.truncatedBytes, 0);
      assert.equal(log.sizeBytes, pristine.length, 'a mid-file corrupt region is not truncated');
      assert.equal(log.recordCount, 4);
      log.append(Buffer.from('record-5'));
      log.close();
    }
    const { log, payloads } = openCollect(logPath);
    assert.deepEqual(payloads.map(text), [
      'record-0',
      'record-1',
      'record-3',
      'record-4',
      'record-5',
    ]);
    log.close();
  });

  it('never trusts a giant length field', () => {
    const logPath = freshLogPath();
    const names = ['zero', 'one', 'two', 'three'];
    const offsets = writeLog(logPath, texts(...names));
    const pristine = fs.readFileSync(logPath);

    /** Sets a record's length to 0xfffffff0, optionally forging a matching header checksum. */
    const withGiantLength = (at: number, forgeChecksum: boolean): Buffer => {
      const damaged = Buffer.from(pristine);
      damaged.writeUInt32LE(0xfffffff0, at + 4);
      if (forgeChecksum) damaged.writeUInt32LE(crc32(damaged.subarray(at, at + 12)), at + 12);
      return damaged;
    };

    // Plain corruption: the header checksum catches it.
    fs.writeFileSync(logPath, withGiantLength(offsets[1]!, false));
    let opened = openCollect(logPath);
    assert.deepEqual(opened.payloads.map(text), ['zero', 'two', 'three']);
    assert.match(opened.report.corrupt[0]!.reason, /header checksum/);
    opened.log.close();

    // A forged header in the middle: replay resynchronises instead of dropping what follows.
    fs.writeFileSync(logPath, withGiantLength(offsets[1]!, true));
    opened = openCollect(logPath);
    assert.deepEqual(opened.payloads.map(text), ['zero', 'two', 'three']);
    assert.equal(opened.report.corrupt.length, 1);
    assert.match(opened.report.corrupt[0]!.reason, /runs past the end/);
    assert.equal(opened.report.truncatedBytes, 0);
    opened.log.close();

    // The same on the last record: a torn tail, truncated.
    fs.writeFileSync(logPath, withGiantLength(offsets[3]!, true));
    opened = openCollect(logPath);
    assert.deepEqual(opened.payloads.map(text), ['zero', 'one', 'two']);
    assert.equal(opened.report.truncatedBytes, pristine.length - offsets[3]!);
    assert.equal(fs.statSync(logPath).size, offsets[3]!);
    opened.log.close();
  });

  it('skips valid records above maxRecordBytes without loading them, and refuses to append them', () => {
    const logPath = freshLogPath();
    const big = randomBytes(1024 * 1024 + 4096); // spans two read windows
    writeLog(logPath, [Buffer.from('small-1'), big, Buffer.from('small-2')]);

    const { log, report, payloads } = openCollect(logPath, { maxRecordBytes: 1024 * 1024 });
    assert.deepEqual(payloads.map(text), ['small-1', 'small-2']);
    assert.equal(report.corrupt.length, 1);
    assert.equal(report.corrupt[0]!.length, REC + big.length);
    assert.match(report.corrupt[0]!.reason, /exceeds maxRecordBytes/);

    const size = log.sizeBytes;
    assert.throws(() => log.append(big), SpanLogError);
    assert.equal(log.sizeBytes, size);
    assert.equal(fs.statSync(logPath).size, size);
    log.close();
  });

  it('survives random garbage after the header, at the end and in the middle', () => {
    const logPath = freshLogPath();
    writeLog(logPath, []);
    fs.appendFileSync(logPath, randomBytes(64 * 1024));
    let opened = openCollect(logPath);
    assert.equal(opened.payloads.length, 0);
    assert.equal(opened.report.truncatedBytes, 64 * 1024);
    assert.equal(opened.log.sizeBytes, HEADER);
    opened.log.append(Buffer.from('before'));
    opened.log.close();

    // Garbage followed by a valid record (borrowed from another log) is a mid-file region.
    const otherPath = freshLogPath();
    writeLog(otherPath, texts('after'));
    const garbageStart = fs.statSync(logPath).size;
    fs.appendFileSync(logPath, randomBytes(4096));
    fs.appendFileSync(logPath, fs.readFileSync(otherPath).subarray(HEADER));

    opened = openCollect(logPath);
    assert.deepEqual(opened.payloads.map(text), ['before', 'after']);
    assert.deepEqual(
      opened.report.corrupt.map(({ offset, length }) => ({ offset, length })),
      [{ offset: garbageStart, length: 4096 }],
    );
    opened.log.close();

    // Nothing but sync words: every candidate fails its header checksum.
    const syncs = Buffer.alloc(64 * 1024);
    for (let i = 0; i < syncs.length; i += 4) syncs.writeUInt32LE(0xd31c5ea7, i);
    fs.writeFileSync(logPath, Buffer.concat([fs.readFileSync(logPath), syncs]));
    opened = openCollect(logPath);
    assert.deepEqual(opened.payloads.map(text), ['before', 'after']);
    assert.equal(opened.report.truncatedBytes, syncs.length);
    opened.log.close();
  });

  it('resynchronises on a sync word that straddles two read windows', () => {
    // Replay reads in 1 MiB windows and a resync scan starts one byte into the bad region, so
    // these garbage lengths put the next sync word across the end of the first scan window.
    const window = 1024 * 1024;
    const otherPath = freshLogPath();
    writeLog(otherPath, texts('after'));
    const validRecord = fs.readFileSync(otherPath).subarray(HEADER);
    for (let garbage = window - 4; garbage <= window + 1; garbage++) {
      const logPath = freshLogPath();
      writeLog(logPath, texts('before'));
      fs.appendFileSync(logPath, Buffer.concat([Buffer.alloc(garbage), validRecord]));
      const { log, report, payloads } = openCollect(logPath);
      assert.deepEqual(payloads.map(text), ['before', 'after'], `garbage ${garbage}`);
      assert.equal(report.corrupt[0]?.length, garbage);
      log.close();
      fs.rmSync(path.dirname(logPath), { recursive: true });
    }
  });

  it('rejects files that are not span logs, and leaves them untouched', () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['random bytes', randomBytes(100_000), /not a Stagelight span log \(bad magic\)/],
      ['a JSON file', Buffer.from('{"resourceSpans": []}\n'), /bad magic/],
      ['a short foreign file', Buffer.from('abc'), /bad magic/],
    ];
    const future = Buffer.alloc(HEADER);
    future.write('STLSPANS', 0, 'latin1');
    future.writeUInt32LE(2, 8);
    cases.push(['a newer format version', future, /format version 2/]);

    for (const [name, content, message] of cases) {
      const logPath = freshLogPath();
      fs.mkdirSync(path.dirname(logPath));
      fs.writeFileSync(logPath, content);
      assert.throws(
        () => openCollect(logPath),
        (error: unknown) => error instanceof SpanLogError && message.test(error.message),
        name,
      );
      assert.deepEqual(fs.readFileSync(logPath), content, name);
    }
  });

  it('counts records that onRecord throws for as skipped and goes on', () => {
    const logPath = freshLogPath();
    const offsets = writeLog(logPath, texts('ok-0', 'bad-1', 'ok-2', 'bad-3', 'ok-4'));
    const accepted: string[] = [];
    const { log, report } = SpanLog.open(logPath, {
      onRecord: (payload) => {
        if (text(payload).startsWith('bad')) throw new Error(`cannot decode ${text(payload)}`);
        accepted.push(text(payload));
      },
    });
    assert.deepEqual(accepted, ['ok-0', 'ok-2', 'ok-4']);
    assert.equal(report.records, 3);
    assert.equal(report.bytes, 12);
    assert.deepEqual(report.skipped, [
      { offset: offsets[1], length: 5, reason: 'cannot decode bad-1' },
      { offset: offsets[3], length: 5, reason: 'cannot decode bad-3' },
    ]);
    assert.deepEqual(report.corrupt, []);
    assert.equal(log.recordCount, 5, 'skipped records are still in the file');
    log.close();
  });

  it('rewrites (compacts) the log and keeps appending to the new file', () => {
    const logPath = freshLogPath();
    const { log } = openCollect(logPath);
    for (let i = 0; i < 10; i++) log.append(Buffer.from(`old-${i}`.padEnd(1000, '.')));
    const before = log.sizeBytes;

    const kept = texts('kept-a', 'kept-b', 'kept-c');
    log.rewrite(kept);
    assert.equal(log.recordCount, 3);
    assert.equal(log.payloadBytes, 18);
    assert.equal(log.sizeBytes, SpanLog.encodedSize(18, 3));
    assert.ok(log.sizeBytes < before);
    assert.equal(fs.statSync(logPath).size, log.sizeBytes);
    log.append(Buffer.from('appended'));
    log.close();
    assert.deepEqual(fs.readdirSync(path.dirname(logPath)), ['spans.log']);

    const reopened = openCollect(logPath);
    assert.deepEqual(reopened.payloads.map(text), ['kept-a', 'kept-b', 'kept-c', 'appended']);
    reopened.log.rewrite([]);
    assert.equal(reopened.log.sizeBytes, HEADER);
    reopened.log.close();
    assert.equal(openCollect(logPath).payloads.length, 0);
  });

  it('a rewrite can keep a tail verbatim after the new payloads, and counts generations', () => {
    const logPath = freshLogPath();
    const offsets = writeLog(
      logPath,
      Array.from({ length: 10 }, (_, i) => Buffer.from(`old-${i}`.padEnd(500, '.'))),
    );
    const { log } = openCollect(logPath);
    assert.equal(log.generation, 0);
    const oldBytes = fs.readFileSync(logPath);
    const keepFrom = offsets[7]!;
    assert.throws(() => log.rewrite([], { keepFrom: 3 }), SpanLogError);
    assert.throws(() => log.rewrite([], { keepFrom: log.sizeBytes + 1 }), SpanLogError);

    let seen: unknown;
    const result = log.rewrite(texts('held-a', 'held-b'), {
      keepFrom,
      beforeCommit: (next) => {
        // Called with the new file complete but not yet in place.
        assert.deepEqual(fs.readFileSync(logPath), oldBytes);
        seen = next;
      },
    });
    assert.deepEqual(result, {
      generation: 1,
      keptAt: SpanLog.encodedSize(12, 2),
      keptBytes: oldBytes.length - keepFrom,
    });
    assert.deepEqual(seen, result);
    assert.equal(log.generation, 1);
    const newBytes = fs.readFileSync(logPath);
    assert.deepEqual(newBytes.subarray(result.keptAt), oldBytes.subarray(keepFrom));
    assert.equal(log.sizeBytes, newBytes.length);
    log.append(Buffer.from('appended'));
    log.close();

    const seenOffsets: number[] = [];
    const reopened = openCollect(logPath, { onRecord: (_p, offset) => seenOffsets.push(offset) });
    reopened.log.close();
    assert.equal(reopened.log.generation, 1, 'the generation is in the file');
    assert.equal(seenOffsets.length, 6);
    assert.equal(seenOffsets[2], result.keptAt, 'onRecord gets each record offset');
    const replayed = openCollect(logPath);
    replayed.log.close();
    assert.deepEqual(
      replayed.payloads.map((p) => text(p).replace(/\.+$/, '')),
      ['held-a', 'held-b', 'old-7', 'old-8', 'old-9', 'appended'],
    );

    // A beforeCommit that throws abandons the rewrite: old log, old generation.
    const again = openCollect(logPath);
    const before = fs.readFileSync(logPath);
    assert.throws(
      () =>
        again.log.rewrite(texts('x'), {
          beforeCommit: () => {
            throw new Error('no cursor');
          },
        }),
      (e: unknown) => e instanceof SpanLogError && /no cursor/.test(e.message),
    );
    assert.equal(again.log.generation, 1);
    assert.deepEqual(fs.readFileSync(logPath), before);
    assert.equal(again.log.rewrite([]).generation, 2);
    again.log.close();
  });

  it('keeps the old log when a rewrite fails before the rename', () => {
    const logPath = freshLogPath();
    writeLog(logPath, texts('one', 'two'));

    // The payload source throws midway.
    let opened = openCollect(logPath);
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('new');
      throw new Error('store went away');
    }
    assert.throws(() => opened.log.rewrite(failing()), /store went away/);
    assert.equal(opened.log.recordCount, 2);
    opened.log.append(Buffer.from('three'));
    opened.log.close();

    // A failure injected right before the rename.
    const { log } = openCollect(logPath, {
      faults: {
        beforeRename: () => {
          throw new Error('injected');
        },
      },
    });
    assert.throws(
      () => log.rewrite(texts('new')),
      (error: unknown) => error instanceof SpanLogError && /injected/.test(error.message),
    );
    assert.deepEqual(fs.readdirSync(path.dirname(logPath)), ['spans.log']);
    log.append(Buffer.from('four'));
    log.close();

    opened = openCollect(logPath);
    assert.deepEqual(opened.payloads.map(text), ['one', 'two', 'three', 'four']);
    opened.log.close();
  });

  it('keeps the old log when the process is killed between the temp file and the rename', async () => {
    const logPath = freshLogPath();
    writeLog(logPath, texts('old-0', 'old-1', 'old-2'));
    const writer = startWriter('rewrite-crash', logPath);
    const { signal } = await writer.exited;
    assert.equal(signal, 'SIGKILL', writer.output().stderr);
    const tempPath = `${logPath}.rewrite.tmp`;
    assert.ok(fs.existsSync(tempPath), 'the crash left the temp file behind');

    const { log, payloads } = openCollect(logPath);
    assert.deepEqual(payloads.map(text), ['old-0', 'old-1', 'old-2']);
    assert.ok(!fs.existsSync(tempPath), 'open removed the stale temp file');
    log.rewrite(texts('new-0'));
    log.close();
    assert.deepEqual(openCollect(logPath).payloads.map(text), ['new-0']);
  });

  it('leaves either the old or the new log when killed at a random point of a rewrite', async () => {
    const a = rewriteSet('a').map(text);
    const b = rewriteSet('b').map(text);
    for (let run = 0; run < 2; run++) {
      const logPath = freshLogPath();
      const writer = startWriter('rewrite-loop', logPath);
      await writer.ready;
      await sleep(10 + Math.random() * 60);
      writer.child.kill('SIGKILL');
      await writer.exited;

      const { log, payloads, report } = openCollect(logPath);
      const got = payloads.map(text);
      assert.ok(
        JSON.stringify(got) === JSON.stringify(a) || JSON.stringify(got) === JSON.stringify(b),
        `run ${run}: neither set A nor set B (${got.length} records)`,
      );
      assert.deepEqual(report.corrupt, []);
      assert.deepEqual(fs.readdirSync(path.dirname(logPath)), ['spans.log']);
      log.close();
    }
  });

  it('loses at most the record being written when the writer is SIGKILLed', async () => {
    const logPath = freshLogPath();
    let expected = 0;
    for (let run = 0; run < 3; run++) {
      // The writer itself replays what the previous runs left and continues the sequence.
      const writer = startWriter('append', logPath);
      await writer.ready;
      await sleep(20 + Math.random() * 80);
      writer.child.kill('SIGKILL');
      const { signal } = await writer.exited;
      assert.equal(signal, 'SIGKILL', writer.output().stderr);

      const seqs: number[] = [];
      const { log, report } = SpanLog.open(logPath, {
        onRecord: (payload) => seqs.push(checkSeqPayload(payload)),
      });
      assert.deepEqual(report.skipped, [], 'every replayed payload is intact');
      assert.ok(seqs.length > expected, `run ${run} appended something`);
      seqs.forEach((seq, i) => assert.equal(seq, i));
      // At most a torn tail, never a region in the middle.
      assert.ok(report.corrupt.length <= 1);
      assert.ok(report.corrupt.every((c) => c.reason.startsWith('torn tail')));
      expected = seqs.length;
      log.close();
    }

    const { log } = SpanLog.open(logPath, { onRecord: () => {} });
    log.append(makeSeqPayload(expected));
    log.close();
    const seqs: number[] = [];
    SpanLog.open(logPath, {
      onRecord: (payload) => seqs.push(checkSeqPayload(payload)),
    }).log.close();
    assert.equal(seqs.length, expected + 1);
    seqs.forEach((seq, i) => assert.equal(seq, i));
  });

  it(
    'rolls back a partially written record when the file cannot grow (ulimit -f)',
    { skip: process.platform === 'win32' && 'needs a POSIX shell' },
    async () => {
      const logPath = freshLogPath();
      writeLog(logPath, []);
      // 128 KiB in 512-byte blocks: the 1016-byte records stop fitting mid-record.
      const child = spawn(
        '/bin/sh',
        [
          '-c',
          'ulimit -f 256 && exec "$0" --import tsx "$1" fill "$2"',
          process.execPath,
          WRITER,
          logPath,
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout) as {
        isSpanLogError: boolean;
        code: string;
        recordCount: number;
        sizeBytes: number;
        fileSize: number;
      };
      assert.equal(result.isSpanLogError, true);
      assert.equal(result.code, 'EFBIG');
      assert.equal(result.fileSize, result.sizeBytes, 'the partial record was truncated away');
      assert.equal(
        result.sizeBytes,
        SpanLog.encodedSize(result.recordCount * 1000, result.recordCount),
      );

      const { log, report, payloads } = openCollect(logPath);
      assert.equal(payloads.length, result.recordCount);
      assert.deepEqual(report.corrupt, []);
      log.close();
    },
  );

  it(
    'reports an unwritable location as a SpanLogError',
    { skip: process.platform === 'win32' },
    () => {
      const dir = path.dirname(freshLogPath());
      fs.mkdirSync(dir);
      const logPath = path.join(dir, 'spans.log');
      fs.writeFileSync(logPath, '');
      fs.chmodSync(logPath, 0o444);
      const isRoot = process.getuid?.() === 0;
      if (isRoot) {
        // Root ignores file modes; /dev/full fails every write with ENOSPC instead.
        fs.rmSync(logPath);
        fs.symlinkSync('/dev/full', logPath);
      }
      assert.throws(
        () => openCollect(logPath),
        (error: unknown) =>
          error instanceof SpanLogError && error.code === (isRoot ? 'ENOSPC' : 'EACCES'),
      );
    },
  );
});
