/**
 * What a window reload must not lose, and where to send spans when the usual ports are taken.
 * The test holds the two ports it configures, so the receiver moves to the next free ones: the
 * Traces view and the empty waterfall must name those. Then two traces go in, the user opens
 * the older one from the Traces view, and "Developer: Reload Window": the receiver must be
 * back up and accepting spans, and the waterfall back on that trace. Last, Clear Traces asks
 * before it clears.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waterfallWithTrace } from './helpers/waterfall.js';
import {
  quickPickLabels,
  runCommand,
  startWorkbench,
  webviewFrame,
  type Workbench,
} from './helpers/workbench.js';

/** Listens on a free loopback port, so that the receiver finds it taken. */
async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

/** The ports the status bar item names (`Stagelight :4319/:4320 · …`), once the receiver runs. */
async function receiverPorts(
  page: Page,
  timeoutMs = 60_000,
): Promise<{ grpc: number; http: number }> {
  const item = page.locator('.statusbar-item', { hasText: /Stagelight :\d+\/:\d+/ }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  const m = /Stagelight :(\d+)\/:(\d+)/.exec(await item.innerText());
  if (m === null) throw new Error('the status bar names no ports');
  return { grpc: Number(m[1]), http: Number(m[2]) };
}

/** Sends one single-span trace whose root is `name` over OTLP/HTTP JSON; returns the status. */
async function sendTrace(httpPort: number, name: string): Promise<number> {
  const end = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'reload-e2e' } }] },
        scopeSpans: [
          {
            scope: { name: 'e2e' },
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name,
                kind: 2,
                startTimeUnixNano: String(end - 40_000_000n),
                endTimeUnixNano: String(end),
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.status;
}

/** The Traces view, opened from the activity bar. */
async function openTracesView(page: Page): Promise<void> {
  const tree = page.locator('.tree-explorer-viewlet-tree-view').first();
  if (await tree.isVisible()) return;
  await page
    .locator(
      '.activitybar .action-item a[aria-label^="Stagelight"], .activitybar .action-item[aria-label^="Stagelight"]',
    )
    .first()
    .click();
  await tree.waitFor({ state: 'visible', timeout: 15_000 });
}

const traceRow = (page: Page, name: string) =>
  page.locator('.tree-explorer-viewlet-tree-view .monaco-list-row', { hasText: name }).first();

describe('window reload and moved ports', { timeout: 300_000 }, () => {
  let wb: Workbench;
  const held: Server[] = [];
  let wanted: { grpc: number; http: number };
  let ports: { grpc: number; http: number };

  before(async () => {
    const grpc = await holdPort();
    const http = await holdPort();
    held.push(grpc.server, http.server);
    wanted = { grpc: grpc.port, http: http.port };
    wb = await startWorkbench({
      label: 'reload',
      settings: {
        'stagelight.receiver.grpcPort': wanted.grpc,
        'stagelight.receiver.httpPort': wanted.http,
      },
    });
  });
  after(async () => {
    await wb?.stop();
    for (const s of held) s.close();
  });

  it('names the ports actually bound in the Traces view and the empty waterfall', async () => {
    const { page } = wb;
    await runCommand(page, 'Stagelight: Start Receiver');
    ports = await receiverPorts(page);
    assert.notEqual(ports.grpc, wanted.grpc, 'the gRPC port was taken: the receiver moved');
    assert.notEqual(ports.http, wanted.http, 'the HTTP port was taken: the receiver moved');

    await openTracesView(page);
    const message = page.locator('.tree-explorer-viewlet-tree-view .message').first();
    await message
      .filter({ hasText: `127.0.0.1:${ports.grpc}` })
      .waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(
      await message.innerText(),
      new RegExp(`OTLP/HTTP on 127\\.0\\.0\\.1:${ports.http}`),
    );

    await runCommand(page, 'Stagelight: Show Trace Waterfall');
    const frame = await webviewFrame(page, '.empty');
    const hint = frame.locator('.empty', { hasText: `127.0.0.1:${ports.http}` });
    await hint.waitFor({ state: 'visible', timeout: 15_000 });
    const text = await hint.innerText();
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${ports.grpc}`));
    assert.doesNotMatch(text, /4317|4318/);

    // While it runs, the palette offers Stop Receiver and not Start Receiver.
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill('>Stagelight: St');
    await page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row', {
        hasText: 'Stop Receiver',
      })
      .first()
      .waitFor({ timeout: 10_000 });
    const labels = await quickPickLabels(page);
    await page.keyboard.press('Escape');
    assert.ok(!labels.includes('Stagelight: Start Receiver'), labels.join(' | '));
  });

  it('is back after Developer: Reload Window, with the waterfall on the trace it showed', async () => {
    const { page } = wb;
    assert.equal(await sendTrace(ports.http, 'reload-older'), 200);
    await waterfallWithTrace(page, 'reload-older', 30_000);
    assert.equal(await sendTrace(ports.http, 'reload-newer'), 200);
    await waterfallWithTrace(page, 'reload-newer', 30_000);
    // The user opens the older trace from the Traces view: the waterfall stops following.
    await openTracesView(page);
    await traceRow(page, 'reload-older').click();
    await waterfallWithTrace(page, 'reload-older', 30_000);
    await page.waitForTimeout(1000);

    // A mark the reloaded page does not have: the wait below sees the new workbench.
    await page.evaluate('window.stagelightBeforeReload = true');
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForFunction(
      `window.stagelightBeforeReload !== true && document.querySelector('.monaco-workbench') !== null`,
      undefined,
      { timeout: 60_000 },
    );

    // The receiver started again by itself (nothing was run), and accepts spans.
    const after = await receiverPorts(page, 90_000);
    assert.equal(await sendTrace(after.http, 'reload-after'), 200);
    // The waterfall panel came back, on the trace it showed (not the newest).
    await waterfallWithTrace(page, 'reload-older', 60_000);
    await openTracesView(page);
    await traceRow(page, 'reload-after').waitFor({ state: 'visible', timeout: 15_000 });
  });

  it('asks before Clear Traces, naming how many traces would go', async () => {
    const { page } = wb;
    await runCommand(page, 'Stagelight: Clear Traces');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await dialog.innerText(), /Clear 3 traces\?/);
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await traceRow(page, 'reload-after').waitFor({ state: 'visible', timeout: 5000 });
  });
});
