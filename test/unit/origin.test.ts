/**
 * The source mark of pulled traces: their statistics stay apart from local runs, through the
 * persistence log and a restart too; local runs stay the diagnoses' subject; the Production rows
 * pair the two with the lens's "prod p95" text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TraceEngine } from '../../src/core/engine.js';
import { ingestPulled, ingestSink, splitByTrace } from '../../src/core/backend/pull.js';
import { SOURCE_ATTRIBUTE, resourceSource } from '../../src/core/backend/origin.js';
import { pulledStageRows } from '../../src/core/backend/pulled-stages.js';
import { pulledLensText, pulledTooltipLine } from '../../src/core/source/lens-text.js';
import type { StageStats } from '../../src/core/analysis/stage-stats.js';
import { traceListItemText } from '../../src/core/api/trace-list-item.js';

const NOW_NS = BigInt(Date.now()) * 1_000_000n;

/** An OTLP/JSON trace of one root and one `rerank` child lasting `ms`. */
function traceDoc(traceId: string, ms: number) {
  const t = (off: number) => String(NOW_NS + BigInt(off) * 1_000_000n);
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'rag-api' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: '01'.repeat(8),
                name: 'answer',
                startTimeUnixNano: t(0),
                endTimeUnixNano: t(ms + 10),
              },
              {
                traceId,
                spanId: '02'.repeat(8),
                parentSpanId: '01'.repeat(8),
                name: 'rerank',
                startTimeUnixNano: t(5),
                endTimeUnixNano: t(5 + ms),
              },
            ],
          },
        ],
      },
    ],
  };
}

function rerank(stages: StageStats[]): StageStats | undefined {
  return stages.find((s) => s.name === 'rerank');
}

test('pulled statistics stay apart, across the persistence log and a restart', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagelight-origin-'));
  try {
    let engine = await TraceEngine.open({ dataDir: dir, settleMs: 20 });
    const pulled = [1, 2, 3, 4].flatMap((i) =>
      splitByTrace(traceDoc(`${i}`.repeat(32), 1000 * i), 'http://jaeger:16686'),
    );
    const report = await ingestPulled(pulled, 'http://jaeger:16686', ingestSink(engine));
    assert.equal(report.traces.length, 4);
    engine.ingestJson(Buffer.from(JSON.stringify(traceDoc('a'.repeat(32), 50))), 'http');
    assert.equal(rerank(engine.stats.snapshot())!.count, 1);
    assert.equal(rerank(engine.pulledStats.snapshot())!.count, 4);
    // The diagnoses see the local run only; "against prod" sees the pulled traces.
    assert.equal(engine.insights().scope.windowTraces, 1);
    const cmp = engine.compare({ trace: 'a'.repeat(32), against: 'prod' });
    assert.equal(cmp.before.traces, 4);
    assert.match(cmp.before.label, /^prod \(http:\/\/jaeger:16686\)$/);
    await engine.close();

    engine = await TraceEngine.open({ dataDir: dir, settleMs: 20 });
    assert.equal(engine.store.traceCount, 5);
    assert.equal(rerank(engine.stats.snapshot())!.count, 1);
    assert.equal(rerank(engine.pulledStats.snapshot())!.count, 4);
    // The Traces view says which traces came from the backend.
    const listed = engine.store.list({ limit: 10 });
    const item = (id: string) => traceListItemText(listed.find((t) => t.traceId === id)!);
    assert.match(item('1'.repeat(32)).description, /^prod · rag-api · /);
    assert.match(item('1'.repeat(32)).title, /, pulled from http:\/\/jaeger:16686$/);
    assert.match(item('a'.repeat(32)).description, /^rag-api · /);
    const stored = engine.store.get('1'.repeat(32))!;
    assert.equal(resourceSource(stored.spans[0]!.resource), 'http://jaeger:16686');
    assert.equal(resourceSource(engine.store.get('a'.repeat(32))!.spans[0]!.resource), undefined);
    engine.clear();
    assert.deepEqual(engine.pulledStats.snapshot(), []);
    assert.throws(() => engine.compare({ against: 'prod' }), /no pulled traces to compare with/);
    await engine.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty or non-string mark is no mark', async () => {
  const engine = await TraceEngine.open();
  const doc = traceDoc('b'.repeat(32), 10);
  doc.resourceSpans[0]!.resource.attributes.push({
    key: SOURCE_ATTRIBUTE,
    value: { stringValue: '' },
  });
  engine.ingestJson(Buffer.from(JSON.stringify(doc)), 'http');
  const other = traceDoc('c'.repeat(32), 10);
  (other.resourceSpans[0]!.resource.attributes as unknown[]).push({
    key: SOURCE_ATTRIBUTE,
    value: { intValue: '7' },
  });
  engine.ingestJson(Buffer.from(JSON.stringify(other)), 'http');
  assert.equal(rerank(engine.stats.snapshot())!.count, 2);
  assert.deepEqual(engine.pulledStats.snapshot(), []);
  await engine.close();
});

test('Production rows: prod p95 beside local, slowest first, the lens text shared', () => {
  const s = (name: string, p95Ms: number, count: number): StageStats => ({
    key: JSON.stringify(['rag-api', name]) as StageStats['key'],
    service: 'rag-api',
    name,
    count,
    errorCount: 0,
    errorRate: 0,
    p50Ms: p95Ms / 2,
    p95Ms,
    p99Ms: p95Ms,
    meanMs: p95Ms / 2,
    maxMs: p95Ms,
    traceCount: count,
    criticalTraceCount: 0,
    criticalInPct: 0,
    criticalPathShare: 0,
    rootTraceCount: 0,
  });
  const rows = pulledStageRows([s('rerank', 2100, 3)], [s('embed', 90, 10), s('rerank', 1400, 12)]);
  assert.deepEqual(
    rows.map((r) => r.text),
    ['prod p95 1.40 s · local p95 2.10 s (+50%)', 'prod p95 90.0 ms · not run locally'],
  );
  assert.equal(pulledLensText(rows[0]!.pulled), 'prod p95 1.40 s');
  assert.match(
    rows[0]!.tooltip,
    /over 12 spans pulled from the team backend; p95 2\.10 s over 3 local spans/,
  );
  assert.match(
    pulledTooltipLine(rows[1]!.pulled),
    /^prod p95 90\.0 ms: 95th percentile duration of the 10 spans pulled/,
  );
  assert.equal(pulledStageRows([], [s('a', 1, 1), s('b', 2, 1), s('c', 3, 1)], 2).length, 2);
});
