/**
 * The forwarder's retry policy (src/core/receiver/forward-retry.ts): which statuses are retried,
 * how `Retry-After` is read, and that the backoff is full jitter under a doubling, capped ceiling.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelay,
  isRetryableStatus,
  parseRetryAfter,
} from '../../src/core/receiver/forward-retry.js';

describe('forward retry policy', () => {
  it('retries 429, 502, 503, 504 and nothing else', () => {
    const retried = [400, 401, 403, 404, 413, 415, 429, 500, 501, 502, 503, 504, 505].filter(
      isRetryableStatus,
    );
    assert.deepEqual(retried, [429, 502, 503, 504]);
  });

  it('reads Retry-After as delay-seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter(' 7 ', now), 7000);
    assert.equal(parseRetryAfter('Sat, 10 Jan 2026 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sat, 10 Jan 2026 11:00:00 GMT', now), 0, 'a past date: now');
    for (const bad of ['', 'soon', '1.5', '-3']) {
      assert.equal(parseRetryAfter(bad, now), undefined, JSON.stringify(bad));
    }
  });

  it('backs off with full jitter under a ceiling that doubles up to the cap', () => {
    const ceiling = (attempt: number) => backoffDelay(attempt, 250, 30_000, () => 0.999_999);
    assert.deepEqual([1, 2, 3, 4, 5].map(ceiling), [249, 499, 999, 1999, 3999]);
    assert.equal(ceiling(12), 29_999);
    assert.equal(ceiling(1000), 29_999, 'no overflow for a long outage');
    assert.equal(
      backoffDelay(5, 250, 30_000, () => 0),
      0,
      'full jitter reaches 0',
    );
    const samples = Array.from({ length: 2000 }, () => backoffDelay(4, 250, 30_000));
    assert.ok(samples.every((d) => d >= 0 && d < 2000));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    assert.ok(mean > 850 && mean < 1150, `uniform over [0, 2000): mean ${mean}`);
  });
});
