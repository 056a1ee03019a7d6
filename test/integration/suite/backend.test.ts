/**
 * The team backend feature in the extension host: trace ids in a log file are links to Open
 * Trace by ID, which finds a local trace first and opens its waterfall, and gives up plainly
 * (without throwing or storing anything) when the backend is down; traces pulled from a backend
 * put "prod p95" beside the local figures in the lenses.
 */
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { openFixture, startReceiver, stagelightLenses, waitFor } from '../helpers';
import { FIXTURE_STAGES, sendPipelineTraces } from '../otel';
import type { StagelightApi } from '../../../src/extension/extension';
import { ingestPulled, ingestSink, splitByTrace } from '../../../src/core/backend/pull';

const SERVICE = 'backend-spec';
const BACKEND = 'http://jaeger.example:16686';

/** A trace of the fixture pipeline as a backend answers it, each stage twice as slow. */
function backendTrace(traceId: string): { resourceSpans: unknown[] } {
  const ns = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);
  let at = Date.now() - 120_000;
  const root = { traceId, spanId: 'a1'.repeat(8), name: 'inference_request' };
  const spans: unknown[] = [];
  const start = at;
  FIXTURE_STAGES.forEach((s, i) => {
    spans.push({
      traceId,
      spanId: `0${i + 1}`.repeat(8),
      parentSpanId: root.spanId,
      name: s.name,
      startTimeUnixNano: ns(at),
      endTimeUnixNano: ns(at + 2 * s.ms),
    });
    at += 2 * s.ms;
  });
  spans.push({ ...root, startTimeUnixNano: ns(start), endTimeUnixNano: ns(at) });
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
        scopeSpans: [{ spans }],
      },
    ],
  };
}

function waterfallOpen(): boolean {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .some(
      (t) =>
        t.input instanceof vscode.TabInputWebview &&
        t.input.viewType.includes('stagelight.waterfall'),
    );
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('team backend', () => {
  let api: StagelightApi;
  let grpc: string;
  const G = vscode.ConfigurationTarget.Global;

  before(async () => {
    ({ api, grpc } = await startReceiver());
  });
  after(async () => {
    await vscode.workspace.getConfiguration('stagelight.backend').update('url', undefined, G);
    // The specs share the receiver's persisted store: leave it empty, as found.
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  it('makes trace ids in a log file links to Open Trace by ID', async () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    const doc = await vscode.workspace.openTextDocument({
      language: 'log',
      content: `12:00:01 INFO answered trace_id=${id} in 1.2 s\nno id here\ntraceparent: 00-${id}-00f067aa0ba902b7-01\n`,
    });
    const links =
      (await vscode.commands.executeCommand<vscode.DocumentLink[]>(
        'vscode.executeLinkProvider',
        doc.uri,
      )) ?? [];
    const ours = links.filter((l) => l.target?.toString(true).includes('stagelight.openTraceById'));
    assert.deepEqual(
      ours.map((l) => [l.range.start.line, doc.getText(l.range)]),
      [
        [0, id],
        [2, id],
      ],
    );
    // An untitled document with text is dirty: left open, a later "close all editors" would
    // wait on its save prompt.
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('Open Trace by ID opens a local trace (a traceparent pasted as it is)', async () => {
    const [traceId] = await sendPipelineTraces(grpc, SERVICE, 1);
    await waitFor('the trace in the store', () => api.receiver.engine?.store.get(traceId!));
    await vscode.commands.executeCommand(
      'stagelight.openTraceById',
      `traceparent: 00-${traceId}-00f067aa0ba902b7-01`,
    );
    await waitFor('the waterfall tab', () => (waterfallOpen() ? true : undefined));
  });

  it('gives up plainly when the trace is not local and the backend is down', async () => {
    const port = await closedPort();
    await vscode.workspace
      .getConfiguration('stagelight.backend')
      .update('url', `http://127.0.0.1:${port}`, G);
    const before = api.receiver.engine!.store.traceCount;
    // Resolves (the error is a notification), stores nothing, and the receiver keeps running.
    await vscode.commands.executeCommand('stagelight.openTraceById', 'ab'.repeat(16));
    assert.equal(api.receiver.engine!.store.traceCount, before);
    assert.equal(api.receiver.state, 'running');
  });

  it("puts the pulled traces' p95 beside the local lens figures", async () => {
    await sendPipelineTraces(grpc, SERVICE, 2);
    const pulled = [1, 2, 3].flatMap((i) => splitByTrace(backendTrace(`${i}`.repeat(32)), BACKEND));
    const report = await ingestPulled(pulled, BACKEND, ingestSink(api.receiver.engine!));
    assert.equal(report.traces.length, 3);
    const doc = await openFixture('python/pipeline.py');
    const title = await waitFor('a reranking lens with prod p95', async () => {
      const all = [...(await stagelightLenses(doc)).values()].flat();
      return all.find((t) => /^reranking\b.*· prod p95 /.test(t));
    });
    // Local reranking takes 400 ms, the pulled one 800 ms.
    assert.match(title, /p95 40\d ms/);
    assert.match(title, /prod p95 (79\d|80\d) ms/);
  });
});
