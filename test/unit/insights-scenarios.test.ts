/**
 * Insights on the demo's incidents: each scenario runs through the real pipeline (worker
 * processes, onnxruntime, the OTLP/gRPC exporter) into a real receiver, after a stretch of normal
 * traffic, and the top finding must name the incident. The normal scenario alone must raise no
 * alarm.
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
    if (scenario !== 'normal') await runDemo({ ...common, scenario, requests: incidentRequests });
    const { status, body } = await getJson(`${server.endpoints.api}/insights`);
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
  test('normal traffic raises no alarm', async () => {
    const { report, server } = await diagnose('normal', 16, 0);
    await server.close();
    const alarms = report.findings.filter((f) => f.severity !== 'info');
    assert.deepEqual(alarms, [], describeFindings(report.findings));
    // The what-ifs are there for every stage on the path.
    assert.ok(report.whatIf.some((w) => w.stage.name === 'reranking'));
  });

  test('slow-reranker: the top finding is the reranking regression', async () => {
    const { report, server } = await diagnose('slow-reranker', 12, 8);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'stage-regression', describeFindings(report.findings));
    assert.equal(top.stage?.name, 'reranking', describeFindings(report.findings));
    assert.match(top.title, /^reranking .* vs .* typical \(\+.*, \d+% of the excess\)$/);
  });

  test('queue-backlog: the top finding is the wait in the retrieval queue', async () => {
    const { report, server } = await diagnose('queue-backlog', 0, 12);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'queueing', describeFindings(report.findings));
    assert.equal(top.numbers.queue, 'retrieval-requests');
  });

  test('degraded-replica: the top finding names the throttled replica', async () => {
    const { report, server } = await diagnose('degraded-replica', 0, 24);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'bad-instance', describeFindings(report.findings));
    assert.equal(top.stage?.name !== undefined, true);
    assert.match(String(top.numbers.value), /generation-b/, describeFindings(report.findings));
  });

  test('errors: the top finding is the failing stage with its exception', async () => {
    const { report, server } = await diagnose('errors', 0, 16);
    await server.close();
    const top = report.findings[0];
    assert.ok(top, describeFindings(report.findings));
    assert.equal(top.kind, 'errors', describeFindings(report.findings));
    assert.match(top.title, /^generation failed in \d+% of requests/);
  });
});
