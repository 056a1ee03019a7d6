/**
 * The read API's insight routes (src/core/api/read-api.ts) on a real receiver fed over
 * OTLP/HTTP with recorded traces (test/unit/fixtures/incidents/model-rollout): the insights,
 * pinning and clearing a baseline, comparisons, and what malformed or hostile requests get.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { RunningServer } from '../../src/core/server.js';
import type { Comparison } from '../../src/core/analysis/compare.js';
import type { InsightsReport } from '../../src/core/analysis/insights/index.js';
import { answerCompare } from '../../src/core/api/compare-payload.js';
import { isWebviewMessage } from '../../src/protocol/messages.js';
import { getJson, startTestServer } from './helpers/server.js';

interface Fixture {
  baselineTraceIds: string[];
  incidentTraceIds: string[];
  traces: Record<string, unknown>;
}

const fixture: Fixture = JSON.parse(
  gunzipSync(
    readFileSync(path.join(__dirname, 'fixtures', 'incidents', 'model-rollout.json.gz')),
  ).toString('utf8'),
);

async function post(
  url: string,
  body: string,
  type = 'application/json',
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

describe('read API: insights, baseline, compare', () => {
  let server: RunningServer;
  let api: string;

  before(async () => {
    server = await startTestServer({}, false);
    api = server.endpoints.api;
    for (const id of fixture.baselineTraceIds) {
      const r = await post(server.endpoints.httpTraces, JSON.stringify(fixture.traces[id]));
      assert.equal(r.status, 200);
    }
  });
  after(() => server.close());

  it('has no baseline at first, and says so in the report', async () => {
    assert.deepEqual((await getJson(`${api}/baseline`)).body, { baseline: null });
    const r = (await getJson(`${api}/insights?fresh=true`)).body as InsightsReport;
    assert.equal(r.baseline.state, 'none');
    assert.equal(r.traces, fixture.baselineTraceIds.length);
  });

  it('pins a baseline from trace ids once they are analysed', async () => {
    const r = await post(
      `${api}/baseline`,
      JSON.stringify({ label: 'recorded', traceIds: fixture.baselineTraceIds, source: 'warm-up' }),
    );
    assert.equal(r.status, 202);
    const report = (await getJson(`${api}/insights?fresh=true`)).body as InsightsReport;
    assert.equal(report.baseline.state, 'set');
    assert.equal(report.baseline.label, 'recorded');
    // The baseline's own traces are not what the findings are about.
    assert.equal(report.traces, 0);
  });

  it('diagnoses the incident against it and compares run and baseline', async () => {
    for (const id of fixture.incidentTraceIds) {
      await post(server.endpoints.httpTraces, JSON.stringify(fixture.traces[id]));
    }
    const report = (await getJson(`${api}/insights?fresh=true`)).body as InsightsReport;
    assert.equal(report.findings[0]?.kind, 'stage-regression', JSON.stringify(report.findings[0]));
    assert.equal(report.findings[0]?.stage?.name, 'reranking');
    const c = (await getJson(`${api}/compare?against=baseline`)).body as Comparison;
    assert.equal(c.rows[0]?.name, 'reranking');
    assert.ok(c.rows[0]!.deltaMs > 0);
    const [a, b] = [fixture.baselineTraceIds[0]!, fixture.incidentTraceIds[0]!];
    const pair = await getJson(`${api}/compare?a=${a}&b=${b}`);
    assert.equal(pair.status, 200);
    assert.equal((pair.body as Comparison).before.label, a);
    const typical = await getJson(`${api}/compare?trace=${b}&against=typical`);
    assert.equal(typical.status, 200);
    // Where the critical path goes, for the views and the assistants: reranking's box is the
    // largest under the root, and opens one of the incident's traces.
    const boxes = report.pathTree.nodes;
    const top = boxes.filter((n) => n.parent === 0).sort((x, y) => y.ms - x.ms)[0];
    assert.equal(top?.name, 'reranking', JSON.stringify(boxes.slice(0, 6)));
    assert.ok(fixture.incidentTraceIds.includes(top!.slowestTraceId));
  });

  it("answers the waterfall's compare requests from the same engine, errors as text", () => {
    const engine = server.engine;
    const [a, b] = [fixture.baselineTraceIds[0]!, fixture.incidentTraceIds[0]!];
    const base = answerCompare(engine, { traceId: b, against: 'baseline' });
    // The reranking call, its server span and its forward pass moved together: all on top.
    const top3 = base.comparison?.rows.slice(0, 3) ?? [];
    const reranking = top3.find((r) => r.name === 'reranking');
    assert.ok(reranking !== undefined && reranking.deltaMs > 0, JSON.stringify(top3));
    assert.equal(base.comparison?.after.label, b, 'one trace is named as itself');
    const pair = answerCompare(engine, { traceId: b, against: 'trace', otherTraceId: a });
    assert.equal(pair.comparison?.before.label, a);
    assert.equal(pair.comparison?.after.label, b);
    const typical = answerCompare(engine, { traceId: b, against: 'typical' });
    assert.ok(typical.comparison !== null && typical.comparison.before.traces > 0);
    const gone = answerCompare(engine, {
      traceId: b,
      against: 'trace',
      otherTraceId: 'f'.repeat(32),
    });
    assert.equal(gone.comparison, null);
    assert.match(gone.error ?? '', /^Trace f+ not found \(never received, or evicted\)\.$/);
    assert.match(
      answerCompare(undefined, { traceId: b, against: 'typical' }).error ?? '',
      /stopped/,
    );
    // Nothing pulled from a team backend: Prod says what to do.
    assert.match(
      answerCompare(engine, { traceId: b, against: 'prod' }).error ?? '',
      /^No pulled traces to compare with: pull some from the team backend first\.$/,
    );
    const msg = { type: 'compare', requestId: 1, traceId: b, against: 'prod' };
    assert.equal(isWebviewMessage(msg), true);
    assert.equal(isWebviewMessage({ ...msg, against: 'production' }), false);
  });

  it('refuses malformed and hostile requests with a clear error, and keeps the baseline', async () => {
    const bad = async (url: string, status: number, message: RegExp) => {
      const r = await getJson(url);
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.body)}`);
      assert.match((r.body as { message: string }).message, message);
    };
    await bad(`${api}/compare`, 400, /give a and b/);
    await bad(`${api}/compare?a=${'a'.repeat(32)}`, 400, /both a and b/);
    await bad(`${api}/compare?a=zz&b=${'a'.repeat(32)}`, 400, /32 hex/);
    await bad(
      `${api}/compare?trace=${'a'.repeat(32)}&against=everything`,
      400,
      /typical, baseline or prod/,
    );
    await bad(`${api}/compare?a=${'a'.repeat(32)}&b=${'b'.repeat(32)}`, 404, /not found/);
    const posts: Array<[string, string, number, RegExp]> = [
      ['not json', 'application/json', 400, /not JSON/],
      ['[]', 'application/json', 400, /JSON object/],
      ['{"label": ""}', 'application/json', 400, /label/],
      [JSON.stringify({ label: 'x'.repeat(500) }), 'application/json', 400, /label/],
      [
        JSON.stringify({ label: 'x', source: 'last-normal-run' }),
        'application/json',
        400,
        /source/,
      ],
      [JSON.stringify({ label: 'x', traceIds: ['nope'] }), 'application/json', 400, /traceIds/],
      [
        JSON.stringify({ label: 'x', traceIds: new Array(1001).fill('a'.repeat(32)) }),
        'application/json',
        400,
        /traceIds/,
      ],
      // A page may post text/plain without asking (no preflight): refused before it is read.
      [JSON.stringify({ label: 'x' }), 'text/plain', 415, /application\/json/],
      ['{"label": "' + 'y'.repeat(300_000) + '"}', 'application/json', 400, /larger than/],
    ];
    for (const [body, type, status, message] of posts) {
      const r = await post(`${api}/baseline`, body, type);
      assert.equal(
        r.status,
        status,
        `${body.slice(0, 40)}: ${JSON.stringify(r.body).slice(0, 200)}`,
      );
      assert.match((r.body as { message: string }).message, message);
    }
    const kept = (await getJson(`${api}/baseline`)).body as { baseline: { label: string } | null };
    assert.equal(kept.baseline?.label, 'recorded', 'a bad request must not touch the baseline');
    const put = await fetch(`${api}/baseline`, { method: 'PUT' });
    assert.equal(put.status, 405);
  });

  it('clears the baseline', async () => {
    const r = await fetch(`${api}/baseline`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.deepEqual((await getJson(`${api}/baseline`)).body, { baseline: null });
    await new Promise((r2) => setTimeout(r2, 10));
    const c = await getJson(`${api}/compare?against=baseline`);
    assert.equal(c.status, 409);
  });
});
