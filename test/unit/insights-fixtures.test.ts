/**
 * The diagnoses on recorded incidents they were not tuned on (test/unit/fixtures/incidents/,
 * recorded by scripts/record-incident-fixtures.ts from real runs): a model version rollout,
 * skewed worker clocks under a slow reranker, skewed clocks with nothing wrong, and a service
 * whose answer cache stopped hitting (instrumented with the OpenTelemetry JS SDK, not the demo).
 * Each recording's normal start is pinned as the baseline, its incident traces follow, and the
 * engine's own report must name the incident.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { TraceEngine } from '../../src/core/engine.js';
import type { Finding, InsightsReport } from '../../src/core/analysis/insights/index.js';

const DIR = path.join(__dirname, 'fixtures', 'incidents');

interface Fixture {
  name: string;
  baselineTraceIds: string[];
  incidentTraceIds: string[];
  traces: Record<string, unknown>;
}

function load(name: string): Fixture {
  return JSON.parse(gunzipSync(readFileSync(path.join(DIR, `${name}.json.gz`))).toString('utf8'));
}

const describeFindings = (r: InsightsReport): string =>
  r.findings.map((f) => `[${f.severity}] ${f.kind}: ${f.title}`).join('\n') || '(none)';

/** Feeds the baseline's traces, pins them, feeds the incident's; returns the fresh report. */
async function diagnose(name: string): Promise<{ report: InsightsReport; engine: TraceEngine }> {
  const f = load(name);
  const engine = await TraceEngine.open({});
  const feed = (ids: readonly string[]) => {
    for (const id of ids) {
      const t = f.traces[id];
      assert.ok(t !== undefined, `fixture ${name} lacks trace ${id}`);
      const outcome = engine.ingestJson(new TextEncoder().encode(JSON.stringify(t)), 'http');
      assert.equal(outcome.rejected, 0, outcome.errorMessage);
    }
  };
  feed(f.baselineTraceIds);
  engine.pinBaselineFromTraces(f.baselineTraceIds, 'recorded normal start', 'pinned');
  await engine.insightsFresh();
  assert.equal(engine.baseline?.rows.length, f.baselineTraceIds.length);
  feed(f.incidentTraceIds);
  const report = await engine.insightsFresh();
  assert.equal(report.traces, f.incidentTraceIds.length, 'the scope is the incident');
  return { report, engine };
}

const top = (r: InsightsReport): Finding => {
  const t = r.findings[0];
  assert.ok(t !== undefined, 'no finding');
  return t;
};

describe('insights on recorded incidents', () => {
  it('model rollout: reranking regressed, with model.version 1.0 → 1.1', async () => {
    const { report, engine } = await diagnose('model-rollout');
    await engine.close();
    const t = top(report);
    assert.equal(t.kind, 'stage-regression', describeFindings(report));
    assert.equal(t.stage?.name, 'reranking', describeFindings(report));
    assert.match(t.title, /model\.version 1\.0 → 1\.1/, describeFindings(report));
  });

  it('skewed clocks: the slow reranker is still named, and the clocks were adjusted', async () => {
    const { report, engine } = await diagnose('skewed-clocks');
    const shifted = engine.analysis.window().filter((f) => f.clockShifted > 0).length;
    await engine.close();
    assert.ok(shifted > 0, 'no trace needed a clock adjustment: the recording is not skewed');
    const t = top(report);
    assert.equal(t.kind, 'stage-regression', describeFindings(report));
    assert.equal(t.stage?.name, 'reranking', describeFindings(report));
  });

  it('skewed clocks on a healthy run: nothing above info', async () => {
    const { report, engine } = await diagnose('skewed-normal');
    const shifted = engine.analysis.window().filter((f) => f.clockShifted > 0).length;
    await engine.close();
    assert.ok(shifted > 0, 'no trace needed a clock adjustment');
    assert.deepEqual(
      report.findings.filter((f) => f.severity !== 'info').map((f) => f.title),
      [],
    );
  });

  it('cache outage: generation now runs on every request, and cache.hit moved', async () => {
    const { report, engine } = await diagnose('cache-outage');
    await engine.close();
    const t = top(report);
    assert.equal(t.kind, 'stage-regression', describeFindings(report));
    assert.ok(['generate', 'retrieve'].includes(t.stage?.name ?? ''), describeFindings(report));
    assert.match(t.title, /cache\.hit true → false/, describeFindings(report));
  });
});
