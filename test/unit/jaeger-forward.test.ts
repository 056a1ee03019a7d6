/**
 * `stagelight serve --forward` into a real Jaeger v2 (built by scripts/lib/jaeger.ts): spans go
 * to Stagelight from the official OpenTelemetry JS exporters (gRPC and HTTP/protobuf) and as
 * pre-encoded batches, and every span Stagelight accepted must be found in Jaeger through its
 * API v3 (`GET /api/v3/traces/{id}`), span ids compared and attribute values checked; again across
 * a Jaeger restart while spans keep arriving (Badger storage, same ports), where the forwarder
 * resumes from its span log. The forwarder speaks OTLP/HTTP only, so Jaeger's OTLP/HTTP receiver
 * is the one used. Skipped, with the reason, on a machine without Go.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  JaegerUnavailableError,
  startJaeger,
  type JaegerOptions,
  type RunningJaeger,
} from '../../scripts/lib/jaeger.js';
import type { ForwarderStatus } from '../../src/core/receiver/forwarder.js';
import type { ExportTraceServiceRequestJson } from '../../src/core/otlp/export.js';
import type { SpanJson } from '../../src/core/model.js';
import { runningClis, serveCli, type CliProcess } from './helpers/cli-process.js';
import { badIdSpanRequest, badLinkRequest, batchFactory } from './helpers/forwarding.js';
import { attrs } from './helpers/otlp-values.js';
import { getJson, postProtobuf, waitFor } from './helpers/server.js';

const jaegers = new Set<RunningJaeger>();
const dirs: string[] = [];
after(async () => {
  for (const child of runningClis) child.kill('SIGKILL');
  await Promise.all([...jaegers].map((j) => j.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(name: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `stagelight-${name}-`));
  dirs.push(d);
  return d;
}

/** A started Jaeger, or undefined with the test skipped when it cannot be had here. */
async function jaegerOrSkip(
  t: TestContext,
  opts: JaegerOptions = {},
): Promise<RunningJaeger | undefined> {
  try {
    const j = await startJaeger(opts);
    jaegers.add(j);
    return j;
  } catch (e) {
    if (e instanceof JaegerUnavailableError) {
      t.skip(e.message);
      return undefined;
    }
    throw e;
  }
}

async function stopJaeger(j: RunningJaeger, crash: boolean): Promise<void> {
  await j.stop({ crash });
  jaegers.delete(j);
}

/** A Stagelight forwarding to `jaeger` from its span log in a fresh data folder. */
async function forwardingServe(
  jaeger: RunningJaeger,
): Promise<{ cli: CliProcess; http: string; grpc: string }> {
  const data = tempDir('forward-data');
  const { cli, http } = await serveCli(['--forward', jaeger.otlpHttpUrl, '--data', data]);
  const grpc = /OTEL_EXPORTER_OTLP_ENDPOINT=(\S+)\s+\(gRPC\)/.exec(cli.stdout())?.[1];
  assert.ok(grpc, `no gRPC endpoint in:\n${cli.stdout()}`);
  return { cli, http, grpc };
}

interface Health {
  spans: number;
  counters: { acceptedSpans: number; duplicateSpans: number };
  forwarder: ForwarderStatus;
}

async function health(http: string): Promise<Health> {
  const { status, body } = await getJson(`${http}/api/health`);
  assert.equal(status, 200);
  return body as Health;
}

/** Waits until the forwarder has nothing pending or in flight; its status then. */
async function forwarderIdle(http: string, timeoutMs: number): Promise<ForwarderStatus> {
  return waitFor(
    async () => {
      const f = (await health(http)).forwarder;
      return f.pendingRecords === 0 && f.inFlightRequests === 0 ? f : undefined;
    },
    timeoutMs,
    'the forwarder to deliver everything',
  );
}

/** The spans of one trace as an OTLP JSON service answers them (404: none). */
async function spansOf(url: string): Promise<SpanJson[]> {
  const { status, body } = await getJson(url);
  if (status === 404) return [];
  assert.equal(status, 200, `${url}: ${JSON.stringify(body).slice(0, 300)}`);
  // Jaeger's API v3 wraps the request in `result`; Stagelight's read API answers it bare.
  const req = ((body as { result?: unknown }).result ?? body) as ExportTraceServiceRequestJson;
  return req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

/** A trace as Jaeger stored it: `raw_traces` turns off its query-time adjusters (clock skew). */
function jaegerTrace(j: RunningJaeger, traceId: string): Promise<SpanJson[]> {
  return spansOf(`${j.queryUrl}/api/v3/traces/${traceId}?raw_traces=true`);
}

/** `traceId -> span ids` of a list of `traceId:spanId` keys. */
function byTrace(keys: Iterable<string>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const k of keys) {
    const [t, s] = k.split(':') as [string, string];
    let ids = m.get(t);
    if (ids === undefined) m.set(t, (ids = []));
    ids.push(s);
  }
  return m;
}

/**
 * Every span of `expected` is in Stagelight (accepted locally) and in Jaeger, each trace's span
 * ids compared as sets; resolves with Jaeger's spans by id. `once`: no span is in Jaeger twice
 * (its memory storage keeps a copy sent twice; Badger overwrites it, so there it cannot tell).
 */
async function assertAllInJaeger(
  http: string,
  j: RunningJaeger,
  expected: Iterable<string>,
  once: boolean,
): Promise<Map<string, SpanJson>> {
  const found = new Map<string, SpanJson>();
  for (const [traceId, ids] of byTrace(expected)) {
    const want = [...ids].sort();
    const local = (await spansOf(`${http}/api/traces/${traceId}`)).map((s) => s.spanId).sort();
    assert.deepEqual(local, want, `trace ${traceId} as Stagelight stored it`);
    // Jaeger stores what it acknowledged before answering; the wait only covers slow storage.
    const spans = await waitFor(
      async () => {
        const got = await jaegerTrace(j, traceId);
        return got.length >= want.length ? got : undefined;
      },
      5000,
      `trace ${traceId} in Jaeger`,
    );
    const got = [...new Set(spans.map((s) => s.spanId))].sort();
    assert.deepEqual(got, want, `trace ${traceId} in Jaeger`);
    if (once) assert.equal(spans.length, got.length, `trace ${traceId}: a span twice in Jaeger`);
    for (const s of spans) found.set(s.spanId, s);
  }
  return found;
}

/** An SDK tracer whose spans go to `exporter` and are kept in memory for comparison. */
function sdkProvider(
  exporter: GrpcExporter | HttpProtoExporter | HttpJsonExporter,
  service: string,
) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'ci' }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
  });
  return { provider, memory };
}

/** One request through three ML stages, with every attribute type an SDK span has. */
function produceRequest(provider: BasicTracerProvider, n: number): void {
  const tracer = provider.getTracer('jaeger-forward-test', '1.0.0');
  tracer.startActiveSpan(
    'inference_request',
    { kind: SpanKind.SERVER, attributes: { 'http.route': '/v1/answer', 'request.n': n } },
    (root) => {
      const ctx = trace.setSpan(context.active(), root);
      const embed = tracer.startSpan(
        'embedding',
        {
          attributes: {
            'model.name': 'mini-embed',
            batch_size: 16,
            'gpu.util': 0.75,
            cached: false,
            'input.shape': [16, 384],
            tags: ['query', 'en'],
          },
        },
        ctx,
      );
      embed.addEvent('tokenized', { tokens: 512 });
      embed.end();
      const rerank = tracer.startSpan('reranking', { kind: SpanKind.CLIENT }, ctx);
      rerank.setStatus({ code: SpanStatusCode.ERROR, message: 'reranker timed out' });
      rerank.end();
      root.end();
    },
  );
}

function keyOf(s: ReadableSpan): string {
  return `${s.spanContext().traceId}:${s.spanContext().spanId}`;
}

/**
 * Attributes as Jaeger answers them. Its memory storage keeps OTLP as sent; Badger stores
 * Jaeger's older span model, which has no array tag type, so an array comes back as its JSON text.
 */
function asJaegerKeeps(
  a: ReadableSpan['attributes'],
  arraysAsText: boolean,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(a).map(([k, v]) => [
      k,
      arraysAsText && Array.isArray(v) ? JSON.stringify(v) : v,
    ]),
  );
}

/** The SDK's spans are in Jaeger with the attribute values, events and status they were given. */
function assertSdkSpansMatch(
  sent: readonly ReadableSpan[],
  inJaeger: Map<string, SpanJson>,
  arraysAsText = false,
) {
  for (const want of sent) {
    const got = inJaeger.get(want.spanContext().spanId);
    assert.ok(got, `${want.name} missing in Jaeger`);
    assert.equal(got.name, want.name);
    assert.equal(got.parentSpanId ?? '', want.parentSpanContext?.spanId ?? '');
    assert.deepEqual(
      attrs(got.attributes ?? []),
      asJaegerKeeps(want.attributes, arraysAsText),
      want.name,
    );
    assert.deepEqual(
      (got.events ?? []).map((e) => [e.name, attrs(e.attributes ?? [])]),
      want.events.map((e) => [e.name, { ...e.attributes }]),
    );
    assert.equal(got.status?.code ?? 0, want.status.code, `${want.name}: status`);
  }
}

test('every span a forwarding serve accepts is in Jaeger: SDK exporters and pre-encoded batches', async (t) => {
  const jaeger = await jaegerOrSkip(t);
  if (!jaeger) return;
  const { http, grpc } = await forwardingServe(jaeger);

  const sdks = [
    sdkProvider(new GrpcExporter({ url: grpc }), 'forward-sdk-grpc'),
    sdkProvider(new HttpProtoExporter({ url: `${http}/v1/traces` }), 'forward-sdk-http'),
    sdkProvider(new HttpJsonExporter({ url: `${http}/v1/traces` }), 'forward-sdk-json'),
  ];
  for (let n = 0; n < 5; n++) for (const sdk of sdks) produceRequest(sdk.provider, n);
  await Promise.all(sdks.map((sdk) => sdk.provider.forceFlush()));
  const sent = sdks.flatMap((sdk) => sdk.memory.getFinishedSpans());
  assert.equal(sent.length, 45);

  // 40 batches of 100 spans, 4 requests at a time.
  const next = batchFactory(100, 64);
  const keys: string[] = sent.map(keyOf);
  for (let round = 0; round < 10; round++) {
    const batches = Array.from({ length: 4 }, next);
    const statuses = await Promise.all(
      batches.map((b) => postProtobuf(`${http}/v1/traces`, b.bytes)),
    );
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    for (const b of batches) keys.push(...b.keys);
  }

  // One request with a span whose trace id is 8 bytes long among 100 good ones: Stagelight
  // accepts the good ones (partial success); Jaeger would refuse the whole request.
  const mixed = next();
  const res = await fetch(`${http}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: Buffer.concat([mixed.bytes, badIdSpanRequest()]),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  keys.push(...mixed.keys);

  const f = await forwarderIdle(http, 15_000);
  assert.equal(f.sentBatches, sent.length + 41, 'each accepted batch acknowledged once');
  assert.equal(f.rejectedBatches + f.droppedBatches + f.failedAttempts, 0, f.lastError);
  assert.equal((await health(http)).counters.acceptedSpans, keys.length);

  const inJaeger = await assertAllInJaeger(http, jaeger, keys, true);
  assert.equal(inJaeger.size, 4145);
  assertSdkSpansMatch(sent, inJaeger);
  // The resources came along: Jaeger's service index lists each SDK's service.
  const { body } = await getJson(`${jaeger.queryUrl}/api/v3/services`);
  const services = (body as { services: string[] }).services;
  for (const s of ['forward-sdk-grpc', 'forward-sdk-http', 'forward-sdk-json', 'forward-test']) {
    assert.ok(services.includes(s), `${s} in ${services.join(', ')}`);
  }
  await Promise.all(sdks.map((sdk) => sdk.provider.shutdown()));
});

for (const crash of [false, true]) {
  test(`Jaeger ${crash ? 'killed' : 'stopped'} and started again mid-stream: the forwarder resumes from its span log, every span arrives`, async (t) => {
    const badgerDir = tempDir('jaeger-badger');
    const first = await jaegerOrSkip(t, { badgerDir });
    if (!first) return;
    const { http } = await forwardingServe(first);
    const viaHttp = sdkProvider(
      new HttpProtoExporter({ url: `${http}/v1/traces` }),
      'forward-restart-sdk',
    );

    // A steady stream: a pre-encoded batch of 50 spans and one SDK request every 25 ms.
    const next = batchFactory(50, 64);
    const keys: string[] = [];
    let batches = 0;
    let sending = true;
    const stream = (async () => {
      for (let n = 0; sending; n++) {
        const b = next();
        assert.equal(await postProtobuf(`${http}/v1/traces`, b.bytes), 200);
        keys.push(...b.keys);
        batches++;
        produceRequest(viaHttp.provider, n);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    await pause(800);
    await stopJaeger(first, crash);
    const stoppedAt = batches;
    await pause(1000);
    // Stagelight accepts this batch (a link with a bad trace id is kept, not followed); Jaeger
    // refuses any request it is in. Sent mid-outage, it is merged with the pending batches when
    // Jaeger is back: the forwarder must split that request so that only this batch is lost.
    const poison = badLinkRequest();
    assert.equal(await postProtobuf(`${http}/v1/traces`, poison.bytes), 200);
    await pause(1000);
    const during = await health(http);
    assert.ok(during.forwarder.failedAttempts > 0, 'the forwarder saw the outage');
    assert.ok(during.forwarder.pendingRecords > 0, 'batches wait in the span log');
    const second = await startJaeger({ badgerDir, ports: first.ports });
    jaegers.add(second);
    await pause(800);
    sending = false;
    await stream;
    await viaHttp.provider.forceFlush();
    const sent = viaHttp.memory.getFinishedSpans();
    assert.ok(
      batches - stoppedAt >= 20,
      `${batches - stoppedAt} batches sent while Jaeger was down`,
    );

    const f = await forwarderIdle(http, 40_000);
    // One acknowledgement per accepted batch: none was delivered twice. (Badger keys a span by
    // trace, start time and span id, so a copy sent twice would not show in Jaeger's answer.)
    assert.equal(f.sentBatches, batches + sent.length, 'each accepted batch acknowledged once');
    assert.equal(f.rejectedBatches, 1, 'the batch Jaeger refuses, alone');
    assert.equal(f.droppedBatches, 0);
    assert.match(f.lastError, /400.*TraceID/);
    assert.equal(f.state, 'idle');

    const all = [...keys, ...sent.map(keyOf)];
    const inJaeger = await assertAllInJaeger(http, second, all, false);
    assert.equal(inJaeger.size, all.length);
    assertSdkSpansMatch(sent, inJaeger, true);
    const poisonTrace = poison.keys[0]!.split(':')[0]!;
    assert.equal((await spansOf(`${http}/api/traces/${poisonTrace}`)).length, 1, 'kept locally');
    assert.deepEqual(await jaegerTrace(second, poisonTrace), [], 'refused by Jaeger');
    await viaHttp.provider.shutdown();
  });
}
