/**
 * The forward cursor (src/core/receiver/forward-cursor.ts): how the cursor file is read and
 * written, where forwarding resumes for each kind of saved state, that a compaction interrupted
 * before or after its rename resumes at the right record, and, end to end with `stagelight
 * serve` killed with SIGKILL twice (once while requests are in flight, once mid-outage), that
 * every accepted span arrives and only requests that were in flight at a kill are sent again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  FORWARD_CURSOR_FILE,
  ForwardCursorWriter,
  readForwardCursor,
  ResumePoint,
} from '../../src/core/receiver/forward-cursor.js';
import { SpanLogForwardSource } from '../../src/core/receiver/forward-log-source.js';
import type { ForwarderStatus } from '../../src/core/receiver/forwarder.js';
import { SpanLog, SpanLogError } from '../../src/core/store/span-log.js';
import { getJson, waitFor } from './helpers/server.js';
import { ROOT, runningClis, serveCli } from './helpers/cli-process.js';
import {
  batchFactory,
  freePort,
  recordingUpstream,
  type RecordingUpstream,
} from './helpers/forwarding.js';

const URL_A = 'http://127.0.0.1:9/v1/traces';
let tmp: string;
let dirs = 0;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stagelight-forward-cursor-'));
});

after(() => {
  for (const child of runningClis) child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function freshDir(): string {
  dirs += 1;
  const dir = path.join(tmp, `case-${dirs}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A log of `n` small records; returns it (open) with the offset of each record. */
function logWith(
  dir: string,
  n: number,
  options: Parameters<typeof SpanLog.open>[1] = { onRecord() {} },
) {
  const { log } = SpanLog.open(path.join(dir, 'spans.log'), options);
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) {
    offsets.push(log.sizeBytes);
    log.append(Buffer.from(`record ${i}`));
  }
  return { log, offsets };
}

/** Replays the log at `dir` into a ResumePoint and resolves it, as the engine does. */
function resume(dir: string, url = URL_A) {
  const point = ResumePoint.load(dir, url);
  const file = path.join(dir, 'spans.log');
  const { log } = SpanLog.open(file, { onRecord: (_p, offset) => point.observe(offset) });
  try {
    return { ...point.resolve(log, file), generation: log.generation, size: log.sizeBytes };
  } finally {
    log.close();
  }
}

describe('the cursor file', () => {
  test('missing, unreadable and saved cursors are told apart; writes leave no temp file', () => {
    const dir = freshDir();
    const file = path.join(dir, FORWARD_CURSOR_FILE);
    assert.deepEqual(readForwardCursor(file), { kind: 'missing' });
    fs.writeFileSync(file, '{"format":1,"cursor":[{"generation":0,"off');
    assert.equal(readForwardCursor(file).kind, 'unreadable');
    fs.writeFileSync(file, '{"format":1,"cursor":[{"generation":-1,"offset":16}]}');
    assert.equal(readForwardCursor(file).kind, 'unreadable');

    const writer = new ForwardCursorWriter(file, URL_A);
    writer.write([{ generation: 3, offset: 160 }]);
    assert.deepEqual(readForwardCursor(file), {
      kind: 'saved',
      url: URL_A,
      entries: [{ generation: 3, offset: 160 }],
    });
    writer.write(
      [
        { generation: 3, offset: 200 },
        { generation: 4, offset: 48 },
      ],
      true,
    );
    assert.equal((readForwardCursor(file) as { entries: unknown[] }).entries.length, 2);
    assert.deepEqual(fs.readdirSync(dir), [FORWARD_CURSOR_FILE]);
  });
});

describe('where forwarding resumes', () => {
  test('no cursor: at the end (history is not sent); the start is saved at once', () => {
    const dir = freshDir();
    const { log } = logWith(dir, 5);
    const size = log.sizeBytes;
    log.close();
    const start = resume(dir);
    assert.equal(start.offset, size);
    assert.equal(start.pendingRecords, 0);
    assert.equal(start.note, undefined);

    // The source saves it before anything is acknowledged: a kill now resumes at the same place.
    const again = SpanLog.open(path.join(dir, 'spans.log'), { onRecord() {} }).log;
    const writer = new ForwardCursorWriter(path.join(dir, FORWARD_CURSOR_FILE), URL_A);
    new SpanLogForwardSource(again, writer, start).close();
    again.close();
    assert.deepEqual(readForwardCursor(path.join(dir, FORWARD_CURSOR_FILE)), {
      kind: 'saved',
      url: URL_A,
      entries: [{ generation: 0, offset: size }],
    });
  });

  test('a saved cursor at a record boundary: there, with the records after it counted', () => {
    const dir = freshDir();
    const { log, offsets } = logWith(dir, 10);
    log.close();
    new ForwardCursorWriter(path.join(dir, FORWARD_CURSOR_FILE), URL_A).write([
      { generation: 0, offset: offsets[6]! },
    ]);
    const start = resume(dir);
    assert.equal(start.offset, offsets[6]);
    assert.equal(start.pendingRecords, 4);
    assert.equal(start.note, undefined);
    // Another URL keeps the cursor, and says so.
    const moved = resume(dir, 'http://127.0.0.1:10/v1/traces');
    assert.equal(moved.offset, offsets[6]);
    assert.equal(moved.note?.level, 'info');
  });

  test('unreadable or not a boundary: from the start, with a warning', () => {
    const dir = freshDir();
    const { log, offsets } = logWith(dir, 4);
    log.close();
    const file = path.join(dir, FORWARD_CURSOR_FILE);
    const writer = new ForwardCursorWriter(file, URL_A);
    for (const [why, setUp] of [
      ['unreadable', () => fs.writeFileSync(file, '')],
      ['boundary', () => writer.write([{ generation: 0, offset: offsets[2]! + 3 }])],
      ['past the end', () => writer.write([{ generation: 0, offset: offsets[3]! + 1000 }])],
    ] as const) {
      setUp();
      const start = resume(dir);
      assert.equal(start.offset, SpanLog.FILE_HEADER_BYTES, why);
      assert.equal(start.pendingRecords, 4, why);
      assert.equal(start.note?.level, 'warn', why);
    }
  });

  test('another generation (compacted while not forwarding): new batches only, with a warning', () => {
    const dir = freshDir();
    const { log, offsets } = logWith(dir, 4);
    log.close();
    new ForwardCursorWriter(path.join(dir, FORWARD_CURSOR_FILE), URL_A).write([
      { generation: 7, offset: offsets[2]! },
    ]);
    const start = resume(dir);
    assert.equal(start.offset, start.size);
    assert.equal(start.pendingRecords, 0);
    assert.equal(start.note?.level, 'warn');
    assert.match(start.note!.message, /compacted while not forwarding/);
  });

  test('a compaction killed before or after its rename resumes at the same record', () => {
    for (const crash of ['before rename', 'after rename'] as const) {
      const dir = freshDir();
      let failRename = crash === 'before rename';
      const { log, offsets } = logWith(dir, 10, {
        onRecord() {},
        faults: {
          beforeRename: () => {
            if (failRename) throw new Error('killed');
          },
        },
      });
      const writer = new ForwardCursorWriter(path.join(dir, FORWARD_CURSOR_FILE), URL_A);
      const source = new SpanLogForwardSource(log, writer, {
        offset: offsets[7]!,
        pendingRecords: 3,
      });
      const rewrite = () =>
        source.rewriteKeepingTail((keep) =>
          log.rewrite([Buffer.from('held a'), Buffer.from('held b')], keep),
        );
      if (failRename) {
        assert.throws(rewrite, SpanLogError);
      } else {
        rewrite();
      }
      // What the next start sees: two cursor entries, and either the old log or the new one.
      assert.equal((readForwardCursor(writer.file) as { entries: unknown[] }).entries.length, 2);
      log.close();
      failRename = false;
      const start = resume(dir);
      assert.equal(start.generation, crash === 'before rename' ? 0 : 1, crash);
      assert.equal(start.pendingRecords, 3, crash);
      const file = path.join(dir, 'spans.log');
      const payloads: string[] = [];
      SpanLog.open(file, {
        onRecord: (p, offset) => {
          if (offset >= start.offset) payloads.push(Buffer.from(p).toString());
        },
      }).log.close();
      assert.deepEqual(payloads, ['record 7', 'record 8', 'record 9'], crash);
    }
  });
});

describe('stagelight serve killed with SIGKILL', () => {
  before(() => {
    execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'pipe' });
  });

  async function post(http: string, body: Uint8Array): Promise<number> {
    const res = await fetch(`${http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  async function forwarder(http: string): Promise<ForwarderStatus> {
    return ((await getJson(`${http}/api/health`)).body as { forwarder: ForwarderStatus }).forwarder;
  }

  test('in flight, then mid-outage: everything arrives; only the in-flight window again', async (t) => {
    const dataDir = freshDir();
    const port = await freePort();
    const args = ['--data', dataDir, '--forward', `http://127.0.0.1:${port}`];
    const next = batchFactory(100, 600);
    const sent: string[] = [];
    /** Spans acknowledged by an upstream, and how often each was received at all (strict). */
    const acknowledged = new Set<string>();
    const received = new Map<string, number>();
    const count = (up: RecordingUpstream) => {
      for (const k of up.accepted.keys()) acknowledged.add(k);
      for (const r of up.requests)
        for (const k of r.keys) received.set(k, (received.get(k) ?? 0) + 1);
    };

    // 1. A slow upstream: requests stay in flight ~150 ms; kill once some were acknowledged.
    let upstream = await recordingUpstream(() => ({ status: 200, delayMs: 150 }), port);
    let { cli, http } = await serveCli(args);
    for (let i = 0; i < 60; i++) {
      const b = next();
      assert.equal(await post(http, b.bytes), 200);
      sent.push(...b.keys);
    }
    await waitFor(
      () =>
        upstream.requests.filter((r) => r.answeredAt !== undefined).length >= 3 ? true : undefined,
      10_000,
      'some acknowledged requests',
    );
    const killedAt = Date.now();
    cli.child.kill('SIGKILL');
    assert.equal((await cli.exited).signal, 'SIGKILL');
    // In flight at the kill: not answered, or answered too late for the cursor to be saved.
    const window = upstream.requests.filter(
      (r) => r.answeredAt === undefined || r.answeredAt > killedAt - 50,
    );
    const unanswered = upstream.requests.filter((r) => r.answeredAt === undefined);
    assert.ok(unanswered.length <= 4, `${unanswered.length} requests in flight (at most 4)`);
    const inWindow = new Set(window.flatMap((r) => r.keys));
    const beforeKill = upstream.requests.length;
    count(upstream);
    await upstream.close();

    // 2. The upstream is down: restart, accept more, and kill again mid-outage.
    ({ cli, http } = await serveCli(args));
    assert.match(cli.stdout(), /Forwarding every accepted batch .* from the span log/);
    for (let i = 0; i < 20; i++) {
      const b = next();
      assert.equal(await post(http, b.bytes), 200);
      sent.push(...b.keys);
    }
    const down = await waitFor(
      async () => {
        const f = await forwarder(http);
        return f.state === 'down' || f.state === 'retrying' ? f : undefined;
      },
      10_000,
      'the outage',
    );
    assert.ok(down.pendingRecords >= 20, `${down.pendingRecords} pending`);
    cli.child.kill('SIGKILL');
    await cli.exited;

    // 3. The upstream is back: restart; everything arrives.
    upstream = await recordingUpstream(() => 200, port);
    ({ cli, http } = await serveCli(args));
    try {
      await waitFor(
        () =>
          sent.every((k) => upstream.accepted.has(k) || acknowledged.has(k)) ? true : undefined,
        20_000,
        'every span upstream',
      );
      await waitFor(async () => ((await forwarder(http)).state === 'idle' ? true : undefined));
      count(upstream);
      const missing = sent.filter((k) => !acknowledged.has(k));
      assert.equal(missing.length, 0, `${missing.length} spans never acknowledged`);
      // A request cut off by the kill may have been stored upstream all the same: count every
      // request received, answered or not, so this is the strict at-least-once bound.
      const twice = [...received].filter(([, n]) => n > 1).map(([k]) => k);
      const outside = twice.filter((k) => !inWindow.has(k));
      assert.deepEqual(outside, [], 'only spans in flight at the kill were sent again');
      assert.equal(received.size, sent.length, 'nothing that was not sent');
      t.diagnostic(
        `${sent.length} spans; ${beforeKill} requests before the kill, ${window.length} in its ` +
          `window; ${twice.length} spans sent twice`,
      );
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    } finally {
      cli.child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
