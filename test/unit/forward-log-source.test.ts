/**
 * Forwarding from the span log (`--data` + `--forward`, src/core/receiver/forward-log-source.ts):
 * a burst larger than the old 64 MiB memory queue while the upstream is down arrives complete
 * once it is back; compaction during an outage (and with requests in flight) keeps what was not
 * forwarded and moves the cursor with it; past the disk budget the oldest are dropped and
 * counted; `/api/health` shows the state throughout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../src/core/server.js';
import { LOG_FILE_NAME, TraceEngine } from '../../src/core/engine.js';
import type { ForwarderStatus } from '../../src/core/receiver/forwarder.js';
import type { Logger } from '../../src/core/logger.js';
import { getJson, postProtobuf, waitFor } from './helpers/server.js';
import {
  batchFactory,
  freePort,
  recordingUpstream,
  type RecordingUpstream,
} from './helpers/forwarding.js';

let tmp: string;
let dirs = 0;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stagelight-forward-log-'));
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function freshDataDir(): string {
  dirs += 1;
  return path.join(tmp, `data-${dirs}`);
}

/** A logger that keeps every line, for "logged once" checks. */
function recordingLog() {
  const lines: Array<{ level: keyof Logger; message: string }> = [];
  const log: Logger = {
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
  const matching = (re: RegExp) => lines.filter((l) => re.test(l.message));
  return { log, lines, matching };
}

async function health(api: string): Promise<ForwarderStatus> {
  const { status, body } = await getJson(`${api}/health`);
  assert.equal(status, 200);
  return (body as { forwarder: ForwarderStatus }).forwarder;
}

/** Every key arrived upstream exactly once, and nothing else did. */
function assertExactlyOnce(upstream: RecordingUpstream, sent: Iterable<string>): void {
  const want = new Set(sent);
  const missing = [...want].filter((k) => !upstream.accepted.has(k));
  assert.equal(missing.length, 0, `${missing.length} of ${want.size} spans never arrived`);
  const twice = [...upstream.accepted].filter(([, n]) => n > 1);
  assert.equal(twice.length, 0, `${twice.length} spans arrived more than once`);
  assert.equal(upstream.accepted.size, want.size, 'no span that was not sent');
}

describe('forwarding from the span log', () => {
  test('upstream down during a burst larger than 64 MiB, then up: every span arrives once', async (t) => {
    const dataDir = freshDataDir();
    const port = await freePort();
    const { log, matching } = recordingLog();
    // A small store: most of the burst is evicted locally and exists only in the log.
    const server = await startServer({
      grpcPort: 0,
      httpPort: 0,
      dataDir,
      maxSpans: 5000,
      forwardUrl: `http://127.0.0.1:${port}`,
      forward: { minBackoffMs: 20, maxBackoffMs: 200, downAfterMs: 100 },
      log,
    });
    let upstream: RecordingUpstream | undefined;
    try {
      const next = batchFactory(200, 400);
      const sent: string[] = [];
      let bytes = 0;
      let batches = 0;
      const t0 = performance.now();
      while (bytes < 72 * 1024 * 1024) {
        const batch = next();
        assert.equal(await postProtobuf(server.endpoints.httpTraces, batch.bytes), 200);
        sent.push(...batch.keys);
        bytes += batch.bytes.length;
        batches++;
      }
      const ingestMs = performance.now() - t0;
      const down = await waitFor(
        async () => {
          const f = await health(server.endpoints.api);
          return f.state === 'down' ? f : undefined;
        },
        10_000,
        'the forwarder to report the outage',
      );
      assert.equal(down.mode, 'log');
      assert.equal(down.sentBatches, 0);
      assert.equal(down.droppedBatches, 0);
      assert.equal(down.pendingRecords, batches);
      assert.ok(down.pendingBytes >= bytes, `${down.pendingBytes} pending of ${bytes}`);
      assert.match(down.lastError, /ECONNREFUSED|connect|fetch failed/i);
      assert.ok(server.engine.store.spanCount <= 5000, 'the store evicted');

      // A little latency, as any real upstream has: requests then overlap.
      upstream = await recordingUpstream(() => ({ status: 200, delayMs: 5 }), port);
      await waitFor(
        () => (upstream!.accepted.size >= sent.length ? true : undefined),
        60_000,
        'delivery',
      );
      await server.forwarder!.whenIdle();
      assertExactlyOnce(upstream, sent);
      const f = await health(server.endpoints.api);
      assert.equal(f.state, 'idle');
      assert.equal(f.sentBatches, batches);
      assert.equal(f.pendingRecords, 0);
      assert.equal(f.pendingBytes, 0);
      assert.equal(f.droppedBatches, 0);
      assert.ok(f.lastSuccessAt !== null);
      assert.ok(upstream.maxInFlight > 1, `requests in flight at once: ${upstream.maxInFlight}`);
      assert.equal(matching(/upstream unavailable/).length, 1, 'the outage is logged once');
      assert.equal(matching(/upstream back after/).length, 1, 'the recovery is logged once');
      assert.match(
        matching(/upstream unavailable/)[0]!.message,
        /batches \([\d.]+ [KM]iB\) pending/,
      );
      t.diagnostic(
        `${batches} batches, ${(bytes / 1048576).toFixed(0)} MiB ingested in ${ingestMs.toFixed(0)} ms`,
      );
    } finally {
      await server.close();
      await upstream?.close();
    }
  });

  test('compaction with requests in flight and during an outage keeps what was not forwarded', async () => {
    const dataDir = freshDataDir();
    const logFile = path.join(dataDir, LOG_FILE_NAME);
    let phase: 'up' | 'hold' | 'down' = 'up';
    let release!: () => void;
    const held = new Promise<number>((resolve) => (release = () => resolve(200)));
    const upstream = await recordingUpstream(() =>
      phase === 'up' ? 200 : phase === 'hold' ? held : 503,
    );
    const forward = {
      url: upstream.url,
      minBackoffMs: 10,
      maxBackoffMs: 50,
      downAfterMs: 50,
      log: recordingLog().log,
    };
    const next = batchFactory(100, 200);
    const ingest = (engine: TraceEngine, n: number) => {
      const keys: string[] = [];
      for (let i = 0; i < n; i++) {
        const b = next();
        engine.ingestProtobuf(b.bytes, 'http');
        keys.push(...b.keys);
      }
      return keys;
    };
    const sent: string[] = [];
    let engine = await TraceEngine.open({ dataDir, maxSpans: 2000, forward });
    try {
      // A: forwarded, and mostly evicted locally (the store keeps 20 of 60 batches).
      sent.push(...ingest(engine, 60));
      await engine.forwarder!.whenIdle();
      // B: on the wire (the upstream holds its answers) while the log is compacted.
      phase = 'hold';
      sent.push(...ingest(engine, 10));
      await waitFor(() => (upstream.inFlight > 0 ? true : undefined), 5000, 'requests in flight');
      const grown = fs.statSync(logFile).size;
      engine.compact();
      const compacted = fs.statSync(logFile).size;
      assert.ok(
        compacted < grown * 0.75,
        `evicted and forwarded spans left: ${grown} -> ${compacted}`,
      );
      phase = 'down';
      release();
      // C: the upstream refuses everything; a compaction now must keep all of C.
      const c = ingest(engine, 20);
      sent.push(...c);
      await waitFor(
        () => (engine.forwarder!.status().state === 'down' ? true : undefined),
        5000,
        'the outage',
      );
      engine.compact();
      const s = engine.forwarder!.status();
      assert.equal(s.pendingRecords, 20, 'C is pending, B was acknowledged after the compaction');
      assert.equal(s.sentBatches, 70);
    } finally {
      await engine.close();
    }
    // After a restart (another compaction at close, another generation) C is still there and
    // is sent; nothing of A or B is sent again.
    phase = 'up';
    engine = await TraceEngine.open({ dataDir, maxSpans: 2000, forward });
    try {
      assert.deepEqual(engine.replayReport?.corrupt, []);
      assert.equal(engine.forwarder!.status().pendingRecords, 20);
      await engine.forwarder!.whenIdle();
      assertExactlyOnce(upstream, sent);
    } finally {
      await engine.close();
      await upstream.close();
    }
  });

  test('past the disk budget the oldest batches are dropped, counted and logged once', async () => {
    const dataDir = freshDataDir();
    const port = await freePort();
    const { log, matching } = recordingLog();
    const budget = 2 * 1024 * 1024;
    const engine = await TraceEngine.open({
      dataDir,
      maxSpans: 2000,
      forward: {
        url: `http://127.0.0.1:${port}`,
        maxPendingBytes: budget,
        minBackoffMs: 10,
        maxBackoffMs: 50,
        downAfterMs: 50,
        log,
      },
    });
    let upstream: RecordingUpstream | undefined;
    try {
      const next = batchFactory(100, 800);
      const batches: string[][] = [];
      let size = 0;
      for (let i = 0; i < 80; i++) {
        const b = next();
        size = b.bytes.length;
        engine.ingestProtobuf(b.bytes, 'http');
        batches.push(b.keys);
        // Give the forwarder's asynchronous reads a turn now and then, as a real burst would.
        if (i % 10 === 9) await new Promise((r) => setImmediate(r));
      }
      const s = await waitFor(
        () => {
          const st = engine.forwarder!.status();
          return st.pendingBytes <= budget + 2 * size ? st : undefined;
        },
        5000,
        'the backlog to be trimmed to the budget',
      );
      assert.ok(s.droppedBatches > 0);
      assert.equal(s.droppedBatches + s.pendingRecords, 80, 'each batch is pending or dropped');
      assert.ok(s.droppedBytes >= s.droppedBatches * (size - 100));
      assert.equal(matching(/dropping the oldest pending batches/).length, 1);

      upstream = await recordingUpstream(() => 200, port);
      await engine.forwarder!.whenIdle();
      const f = engine.forwarder!.status();
      assert.equal(f.sentBatches + f.droppedBatches, 80);
      const arrived = batches.filter((keys) => keys.every((k) => upstream!.accepted.has(k)));
      assert.equal(arrived.length, f.sentBatches);
      for (const keys of batches.slice(-10)) {
        assert.ok(upstream.accepted.has(keys[0]!), 'the newest batches are kept');
      }
      assert.ok([...upstream.accepted.values()].every((n) => n === 1));
    } finally {
      await engine.close();
      await upstream?.close();
    }
  });
});
