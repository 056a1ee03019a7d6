/**
 * Insights (issue 7) in the extension host: traces sent with the official OTLP gRPC exporter,
 * first a run of normal requests, then requests where one stage is much slower; the Insights
 * command's report names that stage's regression first, and a baseline can be pinned.
 */
import { strict as assert } from 'node:assert';
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { Baseline } from '../../../src/core/analysis/baseline';
import type { InsightsReport } from '../../../src/core/analysis/insights/types';
import { startReceiver, waitFor } from '../helpers';
import { FIXTURE_STAGES, type Stage } from '../otel';

const SERVICE = 'insights-spec';
const NORMAL = 12;
const SLOW = 8;
/** The slow requests' reranking: 3 s against 400 ms. */
const SLOW_STAGES: readonly Stage[] = FIXTURE_STAGES.map((s) =>
  s.name === 'reranking' ? { ...s, ms: 3000 } : s,
);

/**
 * Exports NORMAL then SLOW requests, one after the other in time (explicit timestamps, a small
 * per-request jitter so the distributions are not degenerate); returns the slow trace ids.
 */
async function sendNormalThenSlow(grpc: string): Promise<string[]> {
  const exporter = new OTLPTraceExporter({ url: grpc });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    // One batch: a span processor per span would hit the exporter's concurrency limit.
    spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 512 })],
  });
  const tracer = provider.getTracer('stagelight-insights-spec');
  const slowIds: string[] = [];
  try {
    let t = Date.now() - 120_000;
    for (let r = 0; r < NORMAL + SLOW; r++) {
      const slow = r >= NORMAL;
      const stages = slow ? SLOW_STAGES : FIXTURE_STAGES;
      const root = tracer.startSpan('inference_request', { startTime: t });
      if (slow) slowIds.push(root.spanContext().traceId);
      const ctx = trace.setSpan(context.active(), root);
      let at = t;
      for (const stage of stages) {
        const ms = stage.ms + (r % 3);
        const span = tracer.startSpan(stage.name, { startTime: at }, ctx);
        span.end(at + ms);
        at += ms;
      }
      root.end(at);
      t = at + 200;
    }
    await provider.forceFlush();
  } finally {
    await provider.shutdown();
  }
  return slowIds;
}

describe('insights', () => {
  let slowIds: string[] = [];

  before(async () => {
    const { api, grpc } = await startReceiver();
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    slowIds = await sendNormalThenSlow(grpc);
    await waitFor('all traces in the store', () => {
      const n = api.receiver.engine?.store.list().filter((t) => t.rootService === SERVICE).length;
      return n === NORMAL + SLOW ? n : undefined;
    });
  });
  after(async () => {
    await vscode.commands.executeCommand('stagelight.clearBaseline');
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  it('names the slowed stage as the top finding', async () => {
    const report = await vscode.commands.executeCommand<InsightsReport | undefined>(
      'stagelight.showInsights',
    );
    assert.ok(report, 'stagelight.showInsights returned no report');
    assert.equal(report.traces, NORMAL + SLOW);
    const top = report.findings[0];
    const all = report.findings.map((f) => `${f.kind}: ${f.title}`).join('\n');
    assert.ok(top, 'no findings');
    assert.equal(top.kind, 'stage-regression', all);
    assert.deepEqual(top.stage, { service: SERVICE, name: 'reranking' }, all);
    assert.match(top.title, /^reranking .+ vs .+ earlier in this run/, top.title);
    assert.ok(Number(top.numbers.recentMs) >= 2900, `recentMs ${top.numbers.recentMs}`);
    assert.ok(
      top.traceIds.every((id) => slowIds.includes(id)),
      'the finding links traces that are not slow',
    );
  });

  it('pins the recent traces as a baseline', async () => {
    const b = await vscode.commands.executeCommand<Baseline | undefined>(
      'stagelight.pinBaseline',
      'x',
    );
    assert.ok(b, 'stagelight.pinBaseline returned nothing');
    assert.equal(b.label, 'x');
    const rerank = b.stages.find((s) => s.service === SERVICE && s.name === 'reranking');
    assert.ok(rerank, `baseline stages: ${b.stages.map((s) => s.name).join(', ')}`);
    assert.ok(rerank.count > 0, 'the baseline counts no reranking spans');
  });
});
