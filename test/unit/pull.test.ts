/**
 * Pulling from a real Jaeger into a real Stagelight receiver: in-process (the editor's path) and
 * through `stagelight pull` (the receiver's /v1/traces). The spans read back intact with the
 * source mark, the production statistics appear apart from the local ones, a local run compares
 * against them, and a failed or oversize pull stores nothing and loses nothing already stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jaegerFixture } from './helpers/jaeger.js';
import { getJson, startTestServer, waitFor } from './helpers/server.js';
import { JaegerClient } from '../../src/core/backend/jaeger-client.js';
import {
  ingestPulled,
  ingestSink,
  parseDurationMs,
  pullTrace,
  pullTraces,
  splitByTrace,
} from '../../src/core/backend/pull.js';
import { SOURCE_ATTRIBUTE } from '../../src/core/backend/origin.js';
import { pulledLensText } from '../../src/core/source/lens-text.js';
import { main } from '../../src/cli/main.js';
import { formatDuration } from '../../src/shared/format.js';
import net from 'node:net';
import http from 'node:http';

/** A loopback port nothing listens on (just now). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
import type { ExportTraceServiceRequestJson } from '../../src/core/otlp/export.js';
import type { StageStats } from '../../src/core/analysis/stage-stats.js';

const fx = jaegerFixture();
const HOUR = 3_600_000;

function recentQuery(extra = {}) {
  return { service: 'rag-api', startMs: Date.now() - HOUR, endMs: Date.now() + 60_000, ...extra };
}

/** Runs the CLI in-process; what it printed and its exit code. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function stage(stages: StageStats[], name: string): StageStats | undefined {
  return stages.find((s) => s.service === 'rag-api' && s.name === name);
}

test('pulls traces in-process: spans intact, marked, production statistics apart', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const server = await startTestServer();
  const { engine } = server;
  const client = new JaegerClient({ url: fx.jaeger!.queryUrl });
  const report = await pullTraces(client, recentQuery({ operation: 'rerank' }), ingestSink(engine));
  const want = fx.ids((s) => 'rerank' in s.children && s.startMs > Date.now() - HOUR);
  assert.deepEqual(report.traces.map((x) => x.traceId).sort(), want);
  assert.deepEqual(report.failed, []);
  assert.equal(report.acceptedSpans, 6);
  assert.equal(report.source, fx.jaeger!.queryUrl);

  // Read back through the read API: every span, its times and attributes, and the mark.
  const seeded = fx.seeded.find((s) => s.error)!;
  const got = await getJson(`${server.endpoints.api}/traces/${seeded.traceId}`);
  assert.equal(got.status, 200);
  const doc = got.body as ExportTraceServiceRequestJson;
  const rs = doc.resourceSpans[0]!;
  const attrs = Object.fromEntries(
    rs.resource.attributes.map((kv) => [
      kv.key,
      (kv.value as { stringValue?: string }).stringValue,
    ]),
  );
  assert.equal(attrs[SOURCE_ATTRIBUTE], fx.jaeger!.queryUrl);
  assert.equal(attrs['service.name'], 'rag-api');
  assert.equal(attrs['deployment.environment'], 'prod');
  const spans = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  assert.deepEqual(spans.map((s) => s.name).sort(), ['POST /answer', 'embed', 'rerank']);
  const root = spans.find((s) => s.name === 'POST /answer')!;
  assert.equal(root.status.code, 2);
  assert.equal(root.status.message, 'reranker timed out');
  assert.equal(
    (Number(BigInt(root.endTimeUnixNano) - BigInt(root.startTimeUnixNano)) / 1e6).toFixed(3),
    '3000.000',
  );
  const rerank = spans.find((s) => s.name === 'rerank')!;
  assert.equal(rerank.parentSpanId, root.spanId);
  assert.deepEqual(rerank.attributes, [
    { key: 'model.name', value: { stringValue: 'rerank-mini' } },
  ]);

  // Production statistics: computed apart; the local table has none of it.
  const stats = (await getJson(`${server.endpoints.api}/stats`)).body as {
    stages: StageStats[];
    prod: StageStats[];
  };
  assert.deepEqual(stats.stages, []);
  const prodRerank = stage(stats.prod, 'rerank')!;
  assert.equal(prodRerank.count, 2);
  // Exact figures of the two pulled rerank spans (300 ms and 2.4 s); quantiles from the sketch.
  assert.ok(Math.abs(prodRerank.maxMs - 2400) < 0.01, `max ${prodRerank.maxMs}`);
  assert.ok(Math.abs(prodRerank.meanMs - 1350) < 0.01, `mean ${prodRerank.meanMs}`);
  assert.ok(prodRerank.p95Ms >= 297 && prodRerank.p95Ms <= 2424, `p95 ${prodRerank.p95Ms}`);
  assert.equal(pulledLensText(prodRerank), `prod p95 ${formatDuration(prodRerank.p95Ms)}`);
  // The insights are about local runs: pulled traces are no run of their own.
  const insights = engine.insights();
  assert.equal(insights.scope.traces, 0);

  // A local run of the same pipeline: its own statistics, compared against prod.
  const now = BigInt(Date.now()) * 1_000_000n;
  const ms = (n: number) => String(now + BigInt(n) * 1_000_000n);
  const local = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'rag-api' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: 'ab'.repeat(16),
                spanId: '01'.repeat(8),
                name: 'POST /answer',
                kind: 2,
                startTimeUnixNano: ms(0),
                endTimeUnixNano: ms(4000),
              },
              {
                traceId: 'ab'.repeat(16),
                spanId: '02'.repeat(8),
                parentSpanId: '01'.repeat(8),
                name: 'rerank',
                startTimeUnixNano: ms(100),
                endTimeUnixNano: ms(3900),
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(server.endpoints.httpTraces, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(local),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const after = (await getJson(`${server.endpoints.api}/stats`)).body as typeof stats;
  assert.equal(stage(after.stages, 'rerank')!.count, 1);
  assert.equal(stage(after.prod, 'rerank')!.count, 2, 'prod figures unchanged by a local run');
  const cmp = await waitFor(
    async () => {
      const r = await getJson(
        `${server.endpoints.api}/compare?trace=${'ab'.repeat(16)}&against=prod`,
      );
      return r.status === 200 ? r.body : undefined;
    },
    5000,
    'comparison against prod',
  );
  const text = JSON.stringify(cmp);
  assert.match(text, /prod \(http:\/\/127\.0\.0\.1:\d+\)/);
  assert.match(text, /rerank/);
});

test('stagelight pull: into a running receiver, prints what it brought', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const server = await startTestServer();
  const api = server.endpoints.http;
  const r = await cli([
    'pull',
    '--jaeger',
    fx.jaeger!.queryUrl,
    '--service',
    'rag-api',
    '--min-duration',
    '2s',
    '--since',
    '1h',
    '--api',
    api,
  ]);
  assert.equal(r.code, 0, r.err);
  const slow = fx.seeded.find((s) => s.durationMs >= 2000 && s.startMs > Date.now() - HOUR)!;
  assert.match(r.out, /^Pulled 1 trace \(3 spans\) from http:\/\/127\.0\.0\.1:\d+ into http/);
  assert.match(r.out, new RegExp(`trace_id=${slow.traceId}  3 spans`));
  assert.equal(server.engine.store.get(slow.traceId)?.spans.length, 3);
  // Four hours back, all of rag-api: the old one too; those already here count once.
  const all = await cli([
    'pull',
    '--jaeger',
    fx.jaeger!.queryUrl,
    '--service',
    'rag-api',
    '--since',
    '4h',
    '--api',
    api,
  ]);
  assert.equal(all.code, 0, all.err);
  assert.match(all.out, /^Pulled 4 traces/);
  assert.equal(server.engine.store.traceCount, 4);
  // One trace by id.
  const billing = fx.seeded.find((s) => s.service === 'billing')!;
  const one = await cli([
    'pull',
    '--jaeger',
    fx.jaeger!.queryUrl,
    '--trace',
    billing.traceId,
    '--api',
    api,
  ]);
  assert.equal(one.code, 0, one.err);
  assert.match(one.out, /Pulled 1 trace \(1 span\)/);
  // Nothing found: said, exit 0.
  const none = await cli([
    'pull',
    '--jaeger',
    fx.jaeger!.queryUrl,
    '--service',
    'nobody',
    '--api',
    api,
  ]);
  assert.equal(none.code, 0);
  assert.match(none.out, /No traces found in http:\/\/127\.0\.0\.1:\d+ for this search/);
  // The backend down or the receiver missing: one plain line, exit 1, nothing lost.
  const closed = await closedPort();
  const down = await cli([
    'pull',
    '--jaeger',
    `http://127.0.0.1:${closed}`,
    '--service',
    'rag-api',
    '--api',
    api,
  ]);
  assert.equal(down.code, 1);
  assert.match(
    down.err,
    new RegExp(`^stagelight pull: cannot reach http://127.0.0.1:${closed}: connection refused`),
  );
  assert.equal(server.engine.store.traceCount, 5);
  const noReceiver = await cli([
    'pull',
    '--jaeger',
    fx.jaeger!.queryUrl,
    '--service',
    'rag-api',
    '--api',
    `http://127.0.0.1:${closed}`,
  ]);
  assert.equal(noReceiver.code, 1);
  assert.match(noReceiver.err, new RegExp(`no Stagelight receiver at http://127.0.0.1:${closed}:`));
});

test('stagelight pull: usage errors', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['pull', '--service', 's'], /--jaeger <url> is needed/],
    [['pull', '--jaeger', 'jaeger:16686', '--service', 's'], /must be http or https/],
    [['pull', '--jaeger', 'http://j'], /--service <name> is needed/],
    [
      ['pull', '--jaeger', 'http://j', '--service', 's', '--since', '1 hour'],
      /--since must be a positive duration .* got "1 hour"/,
    ],
    [
      ['pull', '--jaeger', 'http://j', '--service', 's', '--since', '0s'],
      /--since must be a positive/,
    ],
    [
      ['pull', '--jaeger', 'http://j', '--service', 's', '--min-duration', '2'],
      /--min-duration must be/,
    ],
    [
      ['pull', '--jaeger', 'http://j', '--service', 's', '--limit', '0'],
      /--limit must be an integer/,
    ],
    [['pull', '--jaeger', 'http://j', '--trace', 'xyz'], /--trace must be 32 hex digits/],
    [['pull', '--jaeger', 'http://j', '--service', 's', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args, { STAGELIGHT_BACKEND_URL: '' });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
  const help = await cli(['pull', '--help']);
  assert.match(help.out, /stagelight pull --jaeger <url> --service <name>/);
});

test('durations: the units the help names, nothing else', () => {
  assert.equal(parseDurationMs('500ms', 'x'), 500);
  assert.equal(parseDurationMs('2s', 'x'), 2000);
  assert.equal(parseDurationMs('1.5m', 'x'), 90_000);
  assert.equal(parseDurationMs(' 1h ', 'x'), HOUR);
  assert.equal(parseDurationMs('7d', 'x'), 7 * 24 * HOUR);
  for (const bad of [
    '',
    'h',
    '1',
    '-1h',
    '1e3s',
    '1hh',
    '1 h',
    'Infinitys',
    '9'.repeat(400) + 's',
    '1,5s',
  ]) {
    assert.throws(
      () => parseDurationMs(bad, '--since'),
      /--since must be a positive duration/,
      bad,
    );
  }
});

test('a trace too large is refused alone, with its size; nothing of it stored', async (t) => {
  if (fx.skipReason !== undefined) return t.skip(fx.skipReason);
  const server = await startTestServer();
  const client = new JaegerClient({ url: fx.jaeger!.queryUrl });
  const seeded = fx.seeded.find((s) => s.error)!;
  const report = await pullTrace(client, seeded.traceId, ingestSink(server.engine), 200);
  assert.deepEqual(report.traces, []);
  assert.equal(report.failed.length, 1);
  assert.match(
    report.failed[0]!.message,
    /too large: 0\.0 MiB of OTLP\/JSON, over the limit of 0\.0 MiB; not stored/,
  );
  assert.equal(server.engine.store.traceCount, 0);
  // The answer itself over the client's cap: refused before anything is split or stored.
  const capped = new JaegerClient({ url: fx.jaeger!.queryUrl, maxBytes: 100 });
  await assert.rejects(pullTraces(capped, recentQuery(), ingestSink(server.engine)), /larger than/);
  assert.equal(server.engine.store.traceCount, 0);
});

test('splitByTrace: one marked request per trace; hostile nesting refused plainly', () => {
  const span = (traceId: string, spanId: string) => ({
    traceId,
    spanId,
    name: 'n',
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
  });
  const out = splitByTrace(
    {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: SOURCE_ATTRIBUTE, value: { stringValue: 'forged' } },
              { key: 'service.name', value: { stringValue: 'a' } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [span('AA'.repeat(16), '01'.repeat(8)), span('bb'.repeat(16), '02'.repeat(8))],
            },
          ],
        },
        { scopeSpans: [{ spans: [span('aa'.repeat(16), '03'.repeat(8))] }] },
      ],
    },
    'http://jaeger:16686',
  );
  assert.deepEqual(
    out.map((t) => [t.traceId, t.spanCount]),
    [
      ['aa'.repeat(16), 2],
      ['bb'.repeat(16), 1],
    ],
  );
  const first = JSON.parse(Buffer.from(out[0]!.body).toString()) as ExportTraceServiceRequestJson;
  assert.equal(first.resourceSpans.length, 2);
  for (const rs of first.resourceSpans) {
    const marks = rs.resource.attributes.filter((kv) => kv.key === SOURCE_ATTRIBUTE);
    assert.deepEqual(marks, [
      { key: SOURCE_ATTRIBUTE, value: { stringValue: 'http://jaeger:16686' } },
    ]);
  }
  const hostile: Array<[unknown[], RegExp]> = [
    [[1], /resourceSpans\[0\]: not an object/],
    [[{ scopeSpans: {} }], /scopeSpans: not a list/],
    [[{ scopeSpans: [{ spans: 'x' }] }], /spans: not a list/],
    [[{ scopeSpans: [{ spans: [{ spanId: 'x' }] }] }], /spans\[0\]: a span without a traceId/],
    [[{ resource: [], scopeSpans: [{ spans: [span('a', 'b')] }] }], /resource: not an object/],
    [
      [{ resource: { attributes: 7 }, scopeSpans: [{ spans: [span('a', 'b')] }] }],
      /attributes: not a list/,
    ],
  ];
  for (const [resourceSpans, message] of hostile) {
    assert.throws(() => splitByTrace({ resourceSpans }, 'x'), message);
  }
});

test('bad spans from a backend meet the receiver decoder: refused with its reason, nothing stored', async () => {
  const server = await startTestServer();
  const good = {
    traceId: 'cd'.repeat(16),
    spanId: '01'.repeat(8),
    name: 'ok',
    startTimeUnixNano: '1000',
    endTimeUnixNano: '2000',
  };
  const traces = splitByTrace(
    {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                good,
                { ...good, spanId: 'zz' },
                { ...good, traceId: 'ef'.repeat(16), spanId: '' },
              ],
            },
          ],
        },
      ],
    },
    'http://jaeger:16686',
  );
  const report = await ingestPulled(traces, 'http://jaeger:16686', ingestSink(server.engine));
  // The first trace's request has a span id that is not hex: the whole request is refused, as
  // the same request over HTTP would be; the second trace's span id is empty: refused alone.
  assert.equal(report.traces.length, 0);
  assert.equal(report.failed.length, 2);
  assert.match(report.failed[0]!.message, /spanId.*hex/i);
  assert.equal(server.engine.store.traceCount, 0);
});

test('a value nested far too deep fails its trace alone, plainly', async () => {
  const depth = 200_000;
  const deep =
    '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"x"}' + ']}}'.repeat(depth);
  const span = (traceId: string, value: string) =>
    `{"traceId":"${traceId}","spanId":"${'b'.repeat(16)}","name":"n","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"k","value":${value}}]}`;
  const doc = JSON.parse(
    `{"resourceSpans":[{"scopeSpans":[{"spans":[${span('a'.repeat(32), deep)},${span('c'.repeat(32), '{"intValue":"3"}')}]}]}]}`,
  ) as { resourceSpans: unknown[] };
  const traces = splitByTrace(doc, 'http://jaeger:16686');
  assert.deepEqual(
    traces.map((t) => [t.traceId, t.problem]),
    [
      ['a'.repeat(32), 'its attribute values are nested too deeply; not stored'],
      ['c'.repeat(32), undefined],
    ],
  );
  const server = await startTestServer();
  const report = await ingestPulled(traces, 'http://jaeger:16686', ingestSink(server.engine));
  assert.deepEqual(
    report.traces.map((t) => t.traceId),
    ['c'.repeat(32)],
  );
  assert.match(report.failed[0]!.message, /nested too deeply/);
  assert.equal(server.engine.store.traceCount, 1);
});

test('the receiver keeps receiving and answering while a backend is slow', async () => {
  const silent = http.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  try {
    const server = await startTestServer();
    const client = new JaegerClient({ url, timeoutMs: 1500 });
    const pulling = pullTraces(client, recentQuery(), ingestSink(server.engine)).catch(
      (e: unknown) => e,
    );
    const t0 = performance.now();
    const body = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'de'.repeat(16),
                  spanId: '01'.repeat(8),
                  name: 'local',
                  startTimeUnixNano: '1000',
                  endTimeUnixNano: '2000',
                },
              ],
            },
          ],
        },
      ],
    });
    const res = await fetch(server.endpoints.httpTraces, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const health = await getJson(`${server.endpoints.api}/health`);
    assert.equal(health.status, 200);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `the receiver answered in ${ms.toFixed(0)} ms during the pull`);
    const e = await pulling;
    assert.match(String((e as Error).message), /did not answer within 1\.5 s/);
    assert.equal(server.engine.store.traceCount, 1);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});
