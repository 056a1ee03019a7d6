/**
 * The receiver inside the extension host, driven by its commands, fed by the official OTLP gRPC
 * exporter: what a user gets after "Stagelight: Start Receiver" and pointing their program at it.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { openFixture, startReceiver, stagelightLenses, waitFor } from '../helpers';
import { sendPipelineTraces } from '../otel';
import type { StagelightApi } from '../../../src/extension/extension';

describe('receiver', () => {
  let api: StagelightApi;
  let grpc: string;

  before(async () => {
    ({ api, grpc } = await startReceiver());
  });
  after(async () => {
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  it('starts on its command and listens on loopback', () => {
    assert.match(grpc, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(
      api.receiver.endpoints?.httpTraces ?? '',
      /^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/,
    );
  });

  it('receives spans from the OpenTelemetry gRPC exporter into the store', async () => {
    const [traceId] = await sendPipelineTraces(grpc, 'receiver-spec', 1);
    const summary = await waitFor('the trace in the store', () =>
      api.receiver.engine?.store.list().find((t) => t.traceId === traceId),
    );
    assert.equal(summary.spanCount, 6);
  });

  it('feeds the latency lenses with what it received', async () => {
    await sendPipelineTraces(grpc, 'receiver-spec', 2);
    const doc = await openFixture('python/pipeline.py');
    const lenses = await waitFor('a lens with n=3 on the preprocessing line', async () => {
      const all = [...(await stagelightLenses(doc)).values()].flat();
      return all.some((t) => /^preprocessing\b.*n=3\b/.test(t)) ? all : undefined;
    });
    assert.ok(lenses.length > 0);
  });

  it('Clear Traces empties the store', async () => {
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    assert.equal(api.receiver.engine?.store.list().length, 0);
  });

  it('Stop Receiver stops it and frees its port', async () => {
    const port = Number(new URL(grpc).port);
    await vscode.commands.executeCommand('stagelight.stopReceiver');
    assert.equal(api.receiver.state, 'stopped');
    await assert.rejects(
      fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }),
      'the gRPC port still accepts connections',
    );
  });
});
