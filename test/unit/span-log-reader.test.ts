/**
 * Reading a live span log by offset (src/core/store/span-log-reader.ts), as the forwarder does:
 * whole records a window at a time, a record larger than the window on its own, and corrupt
 * bytes stepped over and reported, the way replay does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanLog } from '../../src/core/store/span-log.js';
import { readLogRecords } from '../../src/core/store/span-log-reader.js';

const MAX = 64 * 1024 * 1024;
let root: string;
let n = 0;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'stagelight-span-log-reader-'));
});

after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A closed log holding `payloads`; returns its path, record offsets and size. */
function writeLog(payloads: Uint8Array[]) {
  n += 1;
  const file = path.join(root, `log-${n}`, 'spans.log');
  const { log } = SpanLog.open(file, { onRecord() {} });
  const offsets: number[] = [];
  for (const p of payloads) {
    offsets.push(log.sizeBytes);
    log.append(p);
  }
  const size = log.sizeBytes;
  log.close();
  return { file, offsets, size };
}

/** Reads [from, end) to the end, `maxBytes` at a time, as the forwarder does. */
async function readAll(file: string, from: number, end: number, maxBytes: number) {
  const records: Uint8Array[] = [];
  const skipped: Array<{ offset: number; length: number }> = [];
  let reads = 0;
  for (let at = from; at < end;) {
    const r = await readLogRecords(file, at, end, { maxBytes, maxRecordBytes: MAX });
    assert.ok(r.next > at, 'every read makes progress');
    records.push(...r.records.map((x) => x.payload));
    skipped.push(...r.skipped);
    at = r.next;
    reads++;
  }
  return { records, skipped, reads };
}

describe('readLogRecords', () => {
  it('returns whole records, in order, about maxBytes at a time', async () => {
    const payloads = Array.from({ length: 100 }, () => randomBytes(1000));
    const { file, offsets, size } = writeLog(payloads);
    const first = await readLogRecords(file, offsets[0]!, size, {
      maxBytes: 10_000,
      maxRecordBytes: MAX,
    });
    assert.equal(first.records.length, 10);
    assert.equal(first.next, offsets[10]);
    assert.deepEqual(
      first.records.map((r) => [r.offset, r.end]),
      offsets.slice(0, 10).map((o, i) => [o, offsets[i + 1]]),
    );
    const all = await readAll(file, offsets[0]!, size, 10_000);
    assert.equal(all.reads, 10);
    assert.deepEqual(all.records.map(Buffer.from), payloads);
    assert.deepEqual(all.skipped, []);
    // From a later record, and with an end before the last one (a reader that is caught up).
    const part = await readAll(file, offsets[40]!, offsets[45]!, 1);
    assert.deepEqual(part.records.map(Buffer.from), payloads.slice(40, 45));
    assert.deepEqual(await readLogRecords(file, size, size, { maxBytes: 1, maxRecordBytes: MAX }), {
      records: [],
      next: size,
      skipped: [],
    });
  });

  it('returns a record larger than the window on its own', async () => {
    const payloads = [randomBytes(100), randomBytes(300_000), randomBytes(100)];
    const { file, offsets, size } = writeLog(payloads);
    const r1 = await readLogRecords(file, offsets[0]!, size, {
      maxBytes: 1000,
      maxRecordBytes: MAX,
    });
    assert.equal(r1.records.length, 1, 'the small one first; the large one does not fit after it');
    const r2 = await readLogRecords(file, r1.next, size, { maxBytes: 1000, maxRecordBytes: MAX });
    assert.equal(r2.records.length, 1);
    assert.deepEqual(Buffer.from(r2.records[0]!.payload), payloads[1]);
    const all = await readAll(file, offsets[0]!, size, 1000);
    assert.deepEqual(all.records.map(Buffer.from), payloads);
  });

  it('steps over a corrupt record and garbage before the end, and reports them', async () => {
    const payloads = Array.from({ length: 20 }, (_, i) => Buffer.from(`record ${i}`.repeat(50)));
    const { file, offsets, size } = writeLog(payloads);
    // Flip a payload byte of record 7, and append garbage that `end` includes.
    const bytes = fs.readFileSync(file);
    bytes[offsets[7]! + SpanLog.RECORD_HEADER_BYTES + 5]! ^= 0xff;
    const garbage = randomBytes(333);
    fs.writeFileSync(file, Buffer.concat([bytes, garbage]));
    for (const maxBytes of [1, 2000, 1_000_000]) {
      const all = await readAll(file, offsets[0]!, size + garbage.length, maxBytes);
      assert.deepEqual(
        all.records.map((p) => Buffer.from(p).toString()),
        payloads.filter((_, i) => i !== 7).map(String),
        `maxBytes ${maxBytes}`,
      );
      assert.deepEqual(all.skipped, [
        { offset: offsets[7]!, length: offsets[8]! - offsets[7]! },
        { offset: size, length: garbage.length },
      ]);
    }
  });
});
