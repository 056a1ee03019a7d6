/**
 * Insights on the demo's incidents: each scenario runs through the real pipeline (worker
 * processes, onnxruntime, the OTLP/gRPC exporter) into a real receiver, and the top finding must
 * name the incident: in a fresh receiver (the demo pins its normal warm-up as the baseline),
 * after normal traffic, and without any baseline. The normal scenario must raise no alarm.
 * (`npm run eval:insights` does the same over many runs and situations, with timings.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, getJson } from './helpers/server.js';
import type { RunningServer } from '../../src/core/server.js';
import type { Finding, InsightsReport } from '../../src/core/analysis/insights/index.js';
import { runDemo } from '../../demo/run-demo.js';
import type { ScenarioName } from '../../demo/scenarios.js';

const ROOT = path.resolve(__dirname, '..', '..');
const SCALE = 0.05;
let cacheDir: string;

before(() => {
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'inherit' });
  cacheDir = mkdtempSync(path.join(os.tmpdir(), 'stagelight-insights-models-'));
});

after(() => {
  if (cacheDir !== undefined) rmSync(cacheDir, { recursive: true, force: true });
});

/** Runs normal traffic, then the incident, into a fresh receiver; returns the read API's report. */
async function diagnose(
  scenario: ScenarioName,
  normalRequests: number,
  incidentRequests: number,
  warmup?: number,
): Promise<{ report: InsightsReport; server: RunningServer }> {
  const server = await startTestServer({}, false);
  try {
    const common = {
      modelScale: SCALE,
      cacheDir,
      device: 'cpu',
      endpoint: server.endpoints.grpc,
      apiUrl: server.endpoints.api,
    } as const;
    if (normalRequests > 0)
      await runDemo({ ...common, scenario: 'normal', requests: normalRequests });
    if (scenario !== 'normal' || incidentRequests > 0) {
      await runDemo({ ...common, scenario, requests: incidentRequests, warmup });
    }
    // A report that includes every span received (the background one may be a second old).
    const { status, body } = await getJson(`${server.endpoints.api}/insights?fresh=true`);
    assert.equal(status, 200);
    return { report: body as InsightsReport, server };
  } catch (e) {
    await server.close();
    throw e;
  }
}

function describeFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `[${f.severity}] ${f.kind}: ${f.title}`).join('\n') || '(none)';
}

describe('insights on the demo scenarios', { timeout: 300_000 }, () => {
  test('normal traffic raises no alarm, against its own warm-up', async () => {
    const { report, server } = await diagnose('normal', 0, 16);
    await server.close();
    const alarms = report.findings.filter((f) => f.severity !== 'info');
    assert.deepEqual(alarms, [], describeFindings(report.findings));
    assert.equal(report.baseline.state, 'set', report.baseline.message);
    assert.ok(report.whatIf.some((w) => w.stage.name === 'reranking'));
  });

  test('slow-reranker first in a fresh receiver: the reranking regression, input.size moved', async () => {
    const { report, server } = await diagnose('slow-reranker', 0, 8);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'stage-regression', describeFindings(report.findings));
    assert.equal(top.stage?.name, 'reranking', describeFindings(report.findings));
    assert.match(
      top.title,
      /^reranking .* vs .* in baseline demo warm-up \(\+.*\); input\.size 8 → 40/,
    );
  });

  test('slow-reranker with no baseline at all: the dominant stage is reranking', async () => {
    const { report, server } = await diagnose('slow-reranker', 0, 8, 0);
    await server.close();
    assert.equal(report.baseline.state, 'none');
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.stage?.name, 'reranking', describeFindings(report.findings));
    assert.ok(
      ['dominant-stage', 'remote-wait'].includes(top.kind),
      describeFindings(report.findings),
    );
  });

  test('queue-backlog after normal traffic: the top finding is the wait in the retrieval queue', async () => {
    const { report, server } = await diagnose('queue-backlog', 8, 12);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'queueing', describeFindings(report.findings));
    assert.equal(top.numbers.queue, 'retrieval-requests');
    // The normal run before is not this run: nothing of it is reported as current.
    assert.ok(report.scope.traces < report.scope.windowTraces);
  });

  test('degraded-replica: the top finding names the throttled replica', async () => {
    const { report, server } = await diagnose('degraded-replica', 0, 24);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'bad-instance', describeFindings(report.findings));
    assert.match(String(top.numbers.value), /generation-b/, describeFindings(report.findings));
  });

  test('errors: the failing stage with the attribute that explains every failure', async () => {
    const { report, server } = await diagnose('errors', 0, 16);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'errors', describeFindings(report.findings));
    assert.match(top.title, /^generation failed in \d+% of requests/);
    assert.equal(
      top.numbers.cause,
      'gen_ai.request.max_tokens=80',
      describeFindings(report.findings),
    );
  });

  test('cold-start: the first request to each runner waits for model_load', async () => {
    const { report, server } = await diagnose('cold-start', 0, 10);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'cold-start', describeFindings(report.findings));
    assert.match(top.title, /model_load/);
  });
});
