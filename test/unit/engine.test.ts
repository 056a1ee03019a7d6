/**
 * Tests of `TraceEngine` fed real protobuf `ExportTraceServiceRequest` bytes (encoded here with
 * `ProtoWriter`, so ids and times are exact): ingest outcomes, change events, settled critical
 * paths in the statistics, the analysis cache, the memory budget, and the persistence log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { LOG_FILE_NAME, TraceEngine, type EngineChange } from '../../src/core/engine.js';
import { stageKey, type StageStats } from '../../src/core/analysis/index.js';
import { StatusCode } from '../../src/core/model.js';
import { ProtoDecodeError, WireType } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { SpanLog } from '../../src/core/store/span-log.js';
import { seededRandom } from './helpers/random.js';

/** Epoch ms that the spans' times are offsets from. */
const BASE_MS = 1_700_000_000_000;

interface WireSpan {
  /** Trace number; the 16-byte id is derived from it. */
  trace: number;
  /** Span number, unique within the test; the 8-byte id is derived from it. */
  span: number;
  parent?: number;
  name: string;
  service?: string;
  /** Offsets from BASE_MS, in ms. */
  start: number;
  end: number;
  error?: boolean;
  /** Adds a string attribute of this many bytes: a large span. */
  padBytes?: number;
}

const traceHex = (n: number): string => (n + 1).toString(16).padStart(32, '0');
const spanHex = (n: number): string => (n + 1).toString(16).padStart(16, '0');
const nanos = (offsetMs: number): bigint => BigInt(BASE_MS + offsetMs) * 1_000_000n;

/** Encodes an `ExportTraceServiceRequest`: one ResourceSpans per service, in first-seen order. */
function encodeRequest(spans: readonly WireSpan[]): Uint8Array {
  const byService = new Map<string, WireSpan[]>();
  for (const s of spans) {
    const service = s.service ?? 'svc';
    let list = byService.get(service);
    if (list === undefined) byService.set(service, (list = []));
    list.push(s);
  }
  const w = new ProtoWriter();
  for (const [service, list] of byService) {
    w.message(1, (w) => {
      w.message(1, (w) => {
        w.message(1, (w) => {
          w.stringField(1, 'service.name');
          w.message(2, (w) => w.stringField(1, service));
        });
      });
      w.message(2, (w) => {
        w.message(1, (w) => w.stringField(1, 'engine-test').stringField(2, '1.0'));
        for (const s of list) {
          w.message(2, (w) => {
            w.bytesField(1, Buffer.from(traceHex(s.trace), 'hex'));
            w.bytesField(2, Buffer.from(spanHex(s.span), 'hex'));
            if (s.parent !== undefined) w.bytesField(4, Buffer.from(spanHex(s.parent), 'hex'));
            w.stringField(5, s.name);
            w.tag(6, WireType.VARINT).uint32(1);
            w.tag(7, WireType.I64).fixed64(nanos(s.start));
            w.tag(8, WireType.I64).fixed64(nanos(s.end));
            if (s.padBytes !== undefined) {
              w.message(9, (w) => {
                w.stringField(1, 'pad');
                w.message(2, (w) => w.stringField(1, 'x'.repeat(s.padBytes!)));
              });
            }
            if (s.error === true) {
              w.message(15, (w) => w.tag(3, WireType.VARINT).uint32(StatusCode.ERROR));
            }
          });
        }
      });
    });
  }
  // finish() is a view of the writer's buffer: copy it so that the caller owns the bytes.
  return Uint8Array.from(w.finish());
}

/**
 * Span times are epoch milliseconds as doubles, exact only to about 0.25 µs at today's epoch, so
 * durations and shares are compared with a tolerance.
 */
function near(got: number | undefined, want: number, eps = 1e-3): void {
  assert.ok(got !== undefined && Math.abs(got - want) <= eps, `${got} is not ${want}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function stage(engine: TraceEngine, service: string, name: string): StageStats | undefined {
  return engine.stats.snapshot().find((s) => s.key === stageKey(service, name));
}

/** Engines and folders made by a test, closed and removed after it. */
const engines: TraceEngine[] = [];
const dirs: string[] = [];
async function open(opts: Parameters<typeof TraceEngine.open>[0] = {}): Promise<TraceEngine> {
  const engine = await TraceEngine.open(opts);
  engines.push(engine);
  return engine;
}
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagelight-engine-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

let nextSpan = 1;
/** A two-level trace: a root 'handle' on gateway and `children` spans under it. */
function pipelineTrace(trace: number, children: Omit<WireSpan, 'trace' | 'span'>[]): WireSpan[] {
  const root = nextSpan++;
  return [
    { trace, span: root, name: 'handle', service: 'gateway', start: 0, end: 100 },
    ...children.map((c) => ({ trace, span: nextSpan++, parent: root, ...c })),
  ];
}

describe('TraceEngine: ingest', () => {
  it('returns accepted and rejected counts and counts them', async () => {
    const engine = await open({ settleMs: 60_000 });
    const good = pipelineTrace(1, [{ name: 'embed', service: 'embedder', start: 10, end: 40 }]);
    // A span that ends before it starts is refused alone.
    const bad: WireSpan = { trace: 1, span: nextSpan++, name: 'bad', start: 50, end: 20 };
    const outcome = engine.ingestProtobuf(encodeRequest([...good, bad]), 'http');
    assert.equal(outcome.accepted, 2);
    assert.equal(outcome.rejected, 1);
    assert.match(outcome.errorMessage, /1 span\(s\) rejected/);
    assert.equal(engine.store.spanCount, 2);
    const t = engine.store.get(traceHex(1))!;
    assert.equal(t.startMs, BASE_MS);
    near(t.durationMs, 100);
    assert.equal(t.root?.name, 'handle');
    assert.deepEqual(t.services, ['gateway', 'embedder']);

    // An exporter retry of the same request: nothing is refused, nothing is stored twice.
    const retry = engine.ingestProtobuf(encodeRequest([...good, bad]), 'grpc');
    assert.equal(retry.rejected, 1);
    assert.equal(engine.store.spanCount, 2);
    assert.deepEqual(engine.counters, {
      receivedSpans: 6,
      acceptedSpans: 2,
      rejectedSpans: 2,
      duplicateSpans: 2,
      failedRequests: 0,
      persistErrors: 0,
    });

    // A request whose framing is broken throws, and nothing of it is stored.
    assert.throws(
      () => engine.ingestProtobuf(Uint8Array.from([0x0a, 0x7f, 0x01]), 'http'),
      ProtoDecodeError,
    );
    assert.equal(engine.counters.failedRequests, 1);
    assert.equal(engine.store.spanCount, 2);
    // An empty request is valid and holds nothing.
    assert.deepEqual(engine.ingestProtobuf(new Uint8Array(0), 'http'), {
      accepted: 0,
      rejected: 0,
      errorMessage: '',
    });
  });
});

describe('TraceEngine: change events and statistics', () => {
  it('fires onChange coalesced, with statsUpdated', async () => {
    const engine = await open({ settleMs: 60_000, coalesceMs: 30 });
    const changes: EngineChange[] = [];
    engine.onChange((c) => changes.push(c));
    for (let i = 0; i < 20; i++) {
      engine.ingestProtobuf(
        encodeRequest(pipelineTrace(100 + i, [{ name: 'embed', start: 10, end: 40 }])),
        'http',
      );
    }
    assert.equal(changes.length, 0);
    await sleep(150);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.statsUpdated, true);
    assert.deepEqual(
      [...changes[0]!.added].sort(),
      Array.from({ length: 20 }, (_, i) => traceHex(100 + i)).sort(),
    );
    assert.deepEqual(changes[0]!.updated, []);
    assert.equal(stage(engine, 'svc', 'embed')?.count, 20);
  });

  it('adds settled critical paths, and a late span replaces the trace contribution', async () => {
    const engine = await open({ settleMs: 50, coalesceMs: 10 });
    const changes: EngineChange[] = [];
    engine.onChange((c) => changes.push(c));
    // root [0, 100], embed [10, 40]: the path is root 0-10, embed 10-40, root 40-100.
    const spans = pipelineTrace(7, [{ name: 'embed', service: 'embedder', start: 10, end: 40 }]);
    engine.ingestProtobuf(encodeRequest(spans), 'http');
    assert.equal(stage(engine, 'embedder', 'embed')?.traceCount, 0, 'not settled yet');

    const embed = await until(() => {
      const s = stage(engine, 'embedder', 'embed');
      return s !== undefined && s.traceCount > 0 ? s : undefined;
    }, 'the trace to settle');
    assert.equal(embed.traceCount, 1);
    assert.equal(embed.criticalTraceCount, 1);
    assert.equal(embed.criticalInPct, 100);
    near(embed.criticalPathShare, 0.3, 1e-5);
    const root = stage(engine, 'gateway', 'handle')!;
    assert.equal(root.criticalInPct, 100);
    near(root.criticalPathShare, 1, 1e-5);
    assert.equal(root.rootTraceCount, 1);
    await until(
      () => (changes.some((c) => c.statsUpdated && c.added.length === 0) ? true : undefined),
      'a statistics-only change event',
    );

    // A late rerank [5, 95] covers embed: the path becomes root 0-5, rerank 5-95, root 95-100.
    const late = { trace: 7, span: nextSpan++, parent: spans[0]!.span, name: 'rerank' };
    engine.ingestProtobuf(
      encodeRequest([{ ...late, service: 'reranker', start: 5, end: 95 }]),
      'http',
    );
    const rerank = await until(() => {
      const s = stage(engine, 'reranker', 'rerank');
      return s !== undefined && s.traceCount > 0 ? s : undefined;
    }, 'the late span to settle');
    assert.equal(rerank.criticalInPct, 100);
    near(rerank.criticalPathShare, 0.9, 1e-5);
    const embedAfter = stage(engine, 'embedder', 'embed')!;
    assert.equal(embedAfter.traceCount, 1, 'the trace counts once');
    assert.equal(embedAfter.criticalTraceCount, 0);
    assert.equal(embedAfter.criticalInPct, 0);
    assert.equal(embedAfter.criticalPathShare, 0);
    const rootAfter = stage(engine, 'gateway', 'handle')!;
    assert.equal(rootAfter.traceCount, 1);
    near(rootAfter.criticalPathShare, 1, 1e-5);
    // Span counts are per span, not per trace.
    assert.equal(rootAfter.count, 1);
  });

  it('analyze() returns the same object until the trace changes', async () => {
    const engine = await open({ settleMs: 60_000 });
    const spans = pipelineTrace(9, [{ name: 'embed', start: 10, end: 40 }]);
    engine.ingestProtobuf(encodeRequest(spans), 'http');
    const id = traceHex(9);
    const first = engine.analyze(id);
    assert.ok(first);
    assert.equal(engine.analyze(id), first);
    assert.equal(engine.analyze(id.toUpperCase()), first);
    near(first.criticalPath.bySpan.get(spanHex(spans[1]!.span)), 30);
    // A re-sent batch changes nothing.
    engine.ingestProtobuf(encodeRequest(spans), 'http');
    assert.equal(engine.analyze(id), first);

    const late = { trace: 9, span: nextSpan++, parent: spans[0]!.span, name: 'rerank' };
    engine.ingestProtobuf(encodeRequest([{ ...late, start: 5, end: 95 }]), 'http');
    const second = engine.analyze(id);
    assert.ok(second);
    assert.notEqual(second, first);
    assert.equal(second.tree.spans.length, 3);
    near(second.criticalPath.bySpan.get(spanHex(late.span)), 90);
    assert.equal(engine.analyze(id), second);
    assert.equal(engine.analyze(traceHex(12345)), undefined);
  });

  it('reports stage percentiles of known durations within 1%', async () => {
    const engine = await open({ settleMs: 60_000 });
    // Durations 1..100 ms in a shuffled order, 10 per request.
    const durations = Array.from({ length: 100 }, (_, i) => i + 1);
    for (let i = durations.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [durations[i], durations[j]] = [durations[j]!, durations[i]!];
    }
    for (let b = 0; b < 10; b++) {
      const batch = durations.slice(b * 10, b * 10 + 10).map((d, i) => ({
        trace: 1000 + b * 10 + i,
        span: nextSpan++,
        name: 'infer',
        service: 'model',
        start: 0,
        end: d,
        error: d % 10 === 0,
      }));
      engine.ingestProtobuf(encodeRequest(batch), 'http');
    }
    const s = stage(engine, 'model', 'infer')!;
    assert.equal(s.count, 100);
    assert.equal(s.errorCount, 10);
    assert.equal(s.errorRate, 0.1);
    near(s.meanMs, 50.5);
    near(s.maxMs, 100);
    const within1pct = (got: number, want: number) =>
      assert.ok(Math.abs(got - want) <= 0.01 * want, `${got} not within 1% of ${want}`);
    within1pct(s.p50Ms, 50);
    within1pct(s.p95Ms, 95);
    within1pct(s.p99Ms, 99);
  });
});

describe('TraceEngine: memory budget', () => {
  const MIB = 1024 * 1024;

  it('holds at most the budget as counted, evicting by bytes; the parts add up', async () => {
    const engine = await open({ settleMs: 60_000, maxMemoryBytes: 16 * MIB, maxSpans: 1_000_000 });
    for (let i = 0; i < 40; i++) {
      const span = { trace: 5000 + i, span: nextSpan++, name: 'big', start: 0, end: 10 };
      engine.ingestProtobuf(encodeRequest([{ ...span, padBytes: MIB }]), 'http');
      const m = engine.memory();
      assert.ok(m.total <= m.budget, `batch ${i}: ${JSON.stringify(m)}`);
      assert.equal(m.total, m.spans + m.indexes + m.analysis + m.stats + m.forward);
      assert.equal(m.budget, 16 * MIB);
    }
    // About 15 spans of 1 MiB fit; the rest were evicted, oldest first, and counted.
    assert.ok(
      engine.store.spanCount >= 12 && engine.store.spanCount <= 16,
      String(engine.store.spanCount),
    );
    assert.equal(
      engine.counters.acceptedSpans - engine.store.evicted.spans,
      engine.store.spanCount,
    );
    assert.ok(engine.store.get(traceHex(5039)), 'the latest trace is held');
    // The first five are the slowest of their operation (ties go to the first): kept longer.
    assert.ok(engine.store.get(traceHex(5000)));
    assert.equal(engine.store.get(traceHex(5005)), undefined);
  });

  it('gives the analysis facts and the forwarding memory queue a share of the budget', async () => {
    const engine = await open({
      settleMs: 10,
      maxMemoryBytes: 16 * MIB,
      forward: { url: 'http://127.0.0.1:9', minBackoffMs: 60_000 },
    });
    assert.equal(engine.forwarder!.status().maxPendingBytes, 4 * MIB);
    for (let i = 0; i < 30; i++) {
      const spans = pipelineTrace(6000 + i, [{ name: 'embed', start: 10, end: 40 }]);
      engine.ingestProtobuf(encodeRequest(spans), 'http');
    }
    await engine.insightsFresh();
    assert.equal(engine.analysis.heldTraces, 30);
    const before = engine.memory();
    assert.ok(before.analysis > 0 && before.forward > 0, JSON.stringify(before));
    const factsBytes = engine.analysis.bytesHeld;
    assert.ok(engine.analysis.trimFacts(factsBytes / 2) > 0);
    assert.ok(engine.analysis.bytesHeld <= factsBytes / 2);
    assert.ok(engine.memory().analysis < before.analysis);
  });
});

describe('TraceEngine: persistence', () => {
  function traceSet(engine: TraceEngine): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of engine.store.all()) out.set(t.traceId, t.spans.length);
    return out;
  }

  it('replays the log at open', async () => {
    const dataDir = tempDir();
    const first = await open({ dataDir });
    for (let i = 0; i < 5; i++) {
      const spans = pipelineTrace(200 + i, [{ name: 'embed', start: 10, end: 40 + i }]);
      // The root and the child in separate requests, the root last.
      first.ingestProtobuf(encodeRequest(spans.slice(1)), 'http');
      first.ingestProtobuf(encodeRequest(spans.slice(0, 1)), 'grpc');
    }
    const held = traceSet(first);
    assert.equal(held.size, 5);
    await first.close();

    const second = await open({ dataDir });
    assert.deepEqual(traceSet(second), held);
    assert.equal(second.replayReport?.records, 10);
    assert.deepEqual(second.replayReport?.corrupt, []);
    const t = second.store.get(traceHex(203))!;
    assert.equal(t.root?.name, 'handle');
    near(t.durationMs, 100);
    assert.equal(stage(second, 'svc', 'embed')?.count, 5);
    await second.close();

    // A third open sees the same again (replay does not append to the log).
    const third = await open({ dataDir });
    assert.deepEqual(traceSet(third), held);
  });

  it('feeds replayed traces into the critical-path statistics at open', async () => {
    const dataDir = tempDir();
    const first = await open({ dataDir, settleMs: 60_000 });
    first.ingestProtobuf(
      encodeRequest(pipelineTrace(300, [{ name: 'embed', start: 10, end: 40 }])),
      'http',
    );
    await first.close();
    const second = await open({ dataDir, settleMs: 60_000 });
    // Replayed history is analysed in the background at once, without waiting to settle.
    const embed = await until(() => {
      const s = stage(second, 'svc', 'embed');
      return s !== undefined && s.traceCount > 0 ? s : undefined;
    }, 'the replayed trace to be analysed');
    assert.equal(embed.traceCount, 1);
    assert.equal(embed.criticalInPct, 100);
  });

  it('keeps the log bounded by compaction and replays exactly the held traces', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, LOG_FILE_NAME);
    const opts = { dataDir, maxSpans: 60, compactMinBytes: 2048, settleMs: 60_000 };
    const engine = await open(opts);
    let written = 0;
    let maxSize = 0;
    for (let i = 0; i < 400; i++) {
      // Traces of 1..4 spans, some sent in two requests, some errors, varied durations.
      const n = i % 4;
      const spans = pipelineTrace(
        5000 + i,
        Array.from({ length: n }, (_, k) => ({
          name: `stage-${k}`,
          start: 10 + k,
          end: 20 + ((i * 37 + k) % 70),
          error: (i + k) % 11 === 0,
        })),
      );
      const parts = i % 3 === 0 ? [spans.slice(0, 1), spans.slice(1)] : [spans];
      for (const part of parts) {
        if (part.length === 0) continue;
        const bytes = encodeRequest(part);
        written += bytes.length;
        engine.ingestProtobuf(bytes, 'http');
        const size = fs.statSync(file).size;
        maxSize = Math.max(maxSize, size);
        assert.equal(engine.store.spanCount <= 60, true);
      }
    }
    assert.ok(engine.store.evicted.traces > 300);
    // Compaction leaves about twice the bytes held (plus one request and framing), not the
    // ~`written` bytes of everything received.
    const bound = Math.max(2048, 2 * 60 * 80) + 2048;
    assert.ok(maxSize < bound, `log reached ${maxSize} bytes, bound ${bound}, ${written} written`);
    assert.ok(written > 5 * bound, 'the test sent far more than the bound');

    const held = traceSet(engine);
    await engine.close();
    const reopened = await open(opts);
    assert.deepEqual(traceSet(reopened), held);
    assert.equal(reopened.counters.persistErrors, 0);
  });

  it('replays exactly the held traces for random workloads', async () => {
    // Seed 3 shows two divergent runs on the current store (seeds 2, 6, 8 show some too).
    const random = seededRandom(3);
    const mismatches: string[] = [];
    for (let run = 0; run < 30; run++) {
      const dataDir = tempDir();
      const opts = {
        dataDir,
        maxSpans: 20 + Math.floor(random() * 100),
        compactMinBytes: 1024 + Math.floor(random() * 4000),
        settleMs: 60_000,
      };
      const engine = await open(opts);
      for (let i = 0; i < 300; i++) {
        const trace = 10_000 * (run + 1) + i;
        const root = nextSpan++;
        const spans: WireSpan[] = [
          {
            trace,
            span: root,
            name: `op${Math.floor(random() * 3)}`,
            start: 0,
            end: 10 + Math.floor(random() * 500),
            error: random() < 0.05,
          },
        ];
        const children = Math.floor(random() * 5);
        for (let k = 0; k < children; k++) {
          spans.push({ trace, span: nextSpan++, parent: root, name: `s${k}`, start: 1, end: 5 });
        }
        if (random() < 0.3 && spans.length > 1) {
          engine.ingestProtobuf(encodeRequest(spans.slice(1)), 'http');
          engine.ingestProtobuf(encodeRequest(spans.slice(0, 1)), 'http');
        } else {
          engine.ingestProtobuf(encodeRequest(spans), 'http');
        }
        if (i > 5 && random() < 0.1) {
          const earlier = trace - Math.floor(random() * 5);
          engine.ingestProtobuf(
            encodeRequest([{ trace: earlier, span: nextSpan++, name: 'late', start: 2, end: 3 }]),
            'http',
          );
        }
      }
      const held = traceSet(engine);
      await engine.close();
      const reopened = await open(opts);
      const got = traceSet(reopened);
      const lost = [...held.keys()].filter((id) => !got.has(id));
      const extra = [...got.keys()].filter((id) => !held.has(id));
      if (lost.length + extra.length > 0) {
        mismatches.push(`run ${run}: lost ${lost.join(' ')}; extra ${extra.join(' ')}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('clear() empties the store, the statistics and the log', async () => {
    const dataDir = tempDir();
    const engine = await open({ dataDir, settleMs: 50 });
    const changes: EngineChange[] = [];
    engine.onChange((c) => changes.push(c));
    for (let i = 0; i < 3; i++) {
      engine.ingestProtobuf(
        encodeRequest(pipelineTrace(400 + i, [{ name: 'embed', start: 10, end: 40 }])),
        'http',
      );
    }
    await until(
      () => (stage(engine, 'svc', 'embed')?.traceCount === 3 ? true : undefined),
      'settle',
    );
    engine.clear();
    assert.equal(engine.store.spanCount, 0);
    assert.equal(engine.store.traceCount, 0);
    assert.deepEqual(engine.stats.snapshot(), []);
    assert.equal(engine.analyze(traceHex(400)), undefined);
    await until(() => (changes.some((c) => c.cleared) ? true : undefined), 'a cleared event');
    // Only the file header is left.
    assert.equal(fs.statSync(path.join(dataDir, LOG_FILE_NAME)).size, SpanLog.FILE_HEADER_BYTES);
    // Still usable after a clear.
    engine.ingestProtobuf(encodeRequest(pipelineTrace(500, [])), 'http');
    assert.equal(engine.store.traceCount, 1);
    engine.clear();
    await engine.close();

    const reopened = await open({ dataDir });
    assert.equal(reopened.store.traceCount, 0);
    assert.equal(reopened.replayReport?.records, 0);
    assert.deepEqual(reopened.stats.snapshot(), []);
  });
});

describe('TraceEngine: the baseline across restarts', () => {
  it('keeps a pinned baseline in the data folder and reads it back at open', async () => {
    const dataDir = tempDir();
    const first = await open({ dataDir, settleMs: 60_000 });
    for (let i = 0; i < 4; i++) {
      first.ingestProtobuf(
        encodeRequest(pipelineTrace(600 + i, [{ name: 'embed', start: 10, end: 40 }])),
        'http',
      );
    }
    const pinned = first.pinBaseline('before the change');
    assert.equal(pinned?.rows.length, 4);
    await first.close();
    const second = await open({ dataDir, settleMs: 60_000 });
    assert.equal(second.baseline?.label, 'before the change');
    assert.equal(second.baseline?.rows.length, 4);
    // Cleared, it stays cleared.
    second.baseline = undefined;
    await second.close();
    const third = await open({ dataDir });
    assert.equal(third.baseline, undefined);
  });

  it('ignores a damaged baseline file, with a warning, and loses nothing else', async () => {
    const dataDir = tempDir();
    const first = await open({ dataDir });
    first.ingestProtobuf(encodeRequest(pipelineTrace(700, [])), 'http');
    await first.close();
    for (const text of ['{not json', '{"version": 1, "label": "old format"}', '[]']) {
      fs.writeFileSync(path.join(dataDir, 'baseline.json'), text);
      const warnings: string[] = [];
      const e = await open({
        dataDir,
        log: { info: () => {}, warn: (m) => warnings.push(m), error: () => {} },
      });
      assert.equal(e.baseline, undefined);
      assert.match(warnings.join('\n'), /baseline .*baseline\.json: ignored/);
      assert.equal(e.store.traceCount, 1, 'the traces are still there');
      await e.close();
    }
  });
});
