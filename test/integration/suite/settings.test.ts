/** Settings take effect without a reload. */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'mocha';
import { createServer } from 'node:net';
import * as vscode from 'vscode';
import { openFixture, startReceiver, stagelightLenses, waitFor } from '../helpers';
import { sendPipelineTraces } from '../otel';

const G = vscode.ConfigurationTarget.Global;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() =>
        a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port')),
      );
    });
  });
}

describe('settings', () => {
  const lenses = () => vscode.workspace.getConfiguration('stagelight.lenses');
  const receiver = () => vscode.workspace.getConfiguration('stagelight.receiver');
  let doc: vscode.TextDocument;

  before(async () => {
    const { grpc } = await startReceiver();
    await sendPipelineTraces(grpc, 'settings-spec', 2);
    doc = await openFixture('python/pipeline.py');
    await waitFor('lenses', async () =>
      (await stagelightLenses(doc)).size > 0 ? true : undefined,
    );
  });
  after(async () => {
    await lenses().update('enabled', undefined, G);
    await lenses().update('statistics', undefined, G);
    await receiver().update('grpcPort', 0, G);
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  it('stagelight.lenses.enabled = false hides the lenses, true brings them back', async () => {
    await lenses().update('enabled', false, G);
    await waitFor('no lenses', async () =>
      (await stagelightLenses(doc)).size === 0 ? true : undefined,
    );
    await lenses().update('enabled', true, G);
    await waitFor('lenses again', async () =>
      (await stagelightLenses(doc)).size > 0 ? true : undefined,
    );
  });

  it('stagelight.lenses.statistics chooses what a lens shows', async () => {
    await lenses().update('statistics', ['p99', 'count'], G);
    const titles = await waitFor('lenses with p99 only', async () => {
      const all = [...(await stagelightLenses(doc)).values()].flat();
      return all.length > 0 && all.every((t) => t.includes('p99') && !t.includes('p50'))
        ? all
        : undefined;
    });
    assert.ok(
      titles.every((t) => /n=\d+/.test(t)),
      titles.join(' | '),
    );
  });

  it('stagelight.receiver.grpcPort is used when the receiver starts', async () => {
    const port = await freePort();
    await receiver().update('grpcPort', port, G);
    await vscode.commands.executeCommand('stagelight.stopReceiver');
    const { grpc } = await startReceiver();
    assert.equal(grpc, `http://127.0.0.1:${port}`);
  });
});
