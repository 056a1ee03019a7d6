/**
 * The forwarder's line in the status bar tooltip (src/core/api/forward-status.ts): each state
 * says what is pending and where, drops and rejections show when there are any, and text from
 * the network cannot inject Markdown or theme icons.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ForwarderStatus } from '../../src/core/receiver/forwarder.js';
import {
  forwarderNeedsAttention,
  forwarderTooltipLine,
} from '../../src/core/api/forward-status.js';

const base: ForwarderStatus = {
  url: 'http://collector:4318/v1/traces',
  mode: 'log',
  state: 'idle',
  pendingRecords: 0,
  pendingBytes: 0,
  maxPendingBytes: 512 * 1024 * 1024,
  inFlightRequests: 0,
  sentBatches: 12345,
  sentRequests: 900,
  droppedBatches: 0,
  droppedBytes: 0,
  rejectedBatches: 0,
  failedAttempts: 0,
  lastError: '',
  lastSuccessAt: '2026-01-10T12:00:00.000Z',
  downSince: null,
};

describe('forwarder tooltip line', () => {
  it('idle and sending', () => {
    assert.equal(
      forwarderTooltipLine(base),
      '- Forwarding to `http://collector:4318/v1/traces`: up to date · 12,345 sent',
    );
    assert.equal(
      forwarderTooltipLine({ ...base, state: 'sending', pendingRecords: 3, pendingBytes: 2048 }),
      '- Forwarding to `http://collector:4318/v1/traces`: sending · 3 batches (2 KiB) pending in the span log · 12,345 sent',
    );
  });

  it('down: since when, why, what waits where, and what was lost', () => {
    const down: ForwarderStatus = {
      ...base,
      mode: 'memory',
      state: 'down',
      downSince: '2026-01-10T12:34:56.000Z',
      lastError: 'connect ECONNREFUSED 127.0.0.1:4318',
      pendingRecords: 1500,
      pendingBytes: 64 * 1024 * 1024,
      droppedBatches: 20,
      droppedBytes: 3 * 1024 * 1024,
      rejectedBatches: 2,
    };
    assert.equal(
      forwarderTooltipLine(down),
      '- Forwarding to `http://collector:4318/v1/traces`: **upstream down** since 12:34:56 UTC ' +
        '(connect ECONNREFUSED 127.0.0.1:4318) · 1,500 batches (64.0 MiB) pending in memory · ' +
        '12,345 sent · $(warning) 20 dropped (3.0 MiB) · 2 rejected by the upstream',
    );
    assert.ok(forwarderNeedsAttention(down));
    assert.ok(!forwarderNeedsAttention({ ...down, state: 'retrying' }));
    assert.ok(!forwarderNeedsAttention(undefined));
  });

  it('keeps Markdown and theme icons out of error text and the URL', () => {
    const line = forwarderTooltipLine({
      ...base,
      url: 'http://x`y/v1/traces',
      state: 'retrying',
      lastError: 'upstream answered 503: [click](http://evil) $(zap) **bold**',
    });
    assert.ok(!line.includes('[click]'), line);
    assert.ok(!line.includes('$(zap)'), line);
    assert.ok(!line.includes('**bold**'), line);
    assert.ok(line.includes('`http://xy/v1/traces`'), line);
  });
});
