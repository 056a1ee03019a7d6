import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { StageStats } from '../../src/core/analysis/index.js';
import {
  formatDuration,
  formatPercent,
  histogram,
  histogramText,
  lensText,
  lensTooltip,
  parseLensStatistics,
} from '../../src/core/source/index.js';

function stats(over: Partial<StageStats> = {}): StageStats {
  return {
    key: '["ranker","reranking"]',
    service: 'ranker',
    name: 'reranking',
    count: 120,
    errorCount: 2,
    errorRate: 2 / 120,
    p50Ms: 1210,
    p95Ms: 1400,
    p99Ms: 1480,
    meanMs: 1230,
    maxMs: 1500,
    traceCount: 100,
    criticalTraceCount: 96,
    criticalInPct: 96,
    criticalPathShare: 0.52,
    rootTraceCount: 0,
    ...over,
  };
}

describe('formatDuration', () => {
  it('keeps three significant figures with a unit by size', () => {
    assert.equal(formatDuration(0.4204), '420 µs');
    assert.equal(formatDuration(4.2), '4.20 ms');
    assert.equal(formatDuration(12.34), '12.3 ms');
    assert.equal(formatDuration(850.2), '850 ms');
    assert.equal(formatDuration(999.7), '1.00 s');
    assert.equal(formatDuration(1210), '1.21 s');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(125_000), '2m 05s');
    assert.equal(formatDuration(Number.NaN), '–');
  });

  it('formats percentages without false precision', () => {
    assert.equal(formatPercent(96.4), '96%');
    assert.equal(formatPercent(0.42), '0.4%');
    assert.equal(formatPercent(0.01), '<0.1%');
    assert.equal(formatPercent(0), '0%');
  });
});

describe('lensText', () => {
  it('renders the default statistics: the share of the critical path, named as everywhere', () => {
    assert.equal(
      lensText(stats()),
      'reranking  p50 1.21 s · p95 1.40 s · 52% of the critical path · n=120 · 2 errors',
    );
    assert.equal(lensText(stats(), { statistics: ['critical'] }), 'reranking  critical in 96%');
  });

  it('gives a root stage no share: it would be the whole request', () => {
    const root = stats({ rootTraceCount: 100, criticalPathShare: 1 });
    assert.equal(lensText(root), 'reranking  p50 1.21 s · p95 1.40 s · n=120 · 2 errors');
    assert.equal(lensText(root, { statistics: ['critical'] }), 'reranking');
  });

  it('leaves out what it cannot say: no settled trace, no errors', () => {
    assert.equal(
      lensText(stats({ errorCount: 0, traceCount: 0 })),
      'reranking  p50 1.21 s · p95 1.40 s · n=120',
    );
    assert.equal(
      lensText(stats({ errorCount: 1 }), { statistics: ['errors'] }),
      'reranking  1 error',
    );
  });

  it('shows the chosen statistics in a fixed order', () => {
    const chosen = parseLensStatistics(['count', 'p99', 'bogus', 'mean']);
    assert.deepEqual(chosen, ['p99', 'mean', 'count']);
    assert.equal(
      lensText(stats(), { statistics: chosen }),
      'reranking  p99 1.48 s · mean 1.23 s · n=120',
    );
    assert.equal(lensText(stats(), { statistics: parseLensStatistics([]) }), 'reranking');
    assert.deepEqual(parseLensStatistics('p50'), parseLensStatistics(undefined));
  });
});

describe('histogram', () => {
  it('bins linearly over a narrow spread and counts every value once', () => {
    const values = [100, 110, 120, 130, 140, 150, 160, 170, 180, 200];
    const bins = histogram(values, 4);
    assert.equal(bins.length, 4);
    assert.equal(
      bins.reduce((n, b) => n + b.count, 0),
      values.length,
    );
    assert.equal(bins[0]!.loMs, 100);
    assert.equal(bins[3]!.hiMs, 200);
  });

  it('bins logarithmically over a wide spread, and handles one value', () => {
    const bins = histogram([1, 2, 4, 8, 16, 32, 64, 128, 1000], 3);
    assert.ok(Math.abs(bins[1]!.loMs - 10) < 1e-9);
    assert.deepEqual(histogram([5, 5, 5]), [{ loMs: 5, hiMs: 5, count: 3 }]);
    assert.deepEqual(histogram([]), []);
  });

  it('draws bars proportional to the counts', () => {
    const lines = histogramText(
      [
        { loMs: 1000, hiMs: 1100, count: 8 },
        { loMs: 1100, hiMs: 1200, count: 2 },
      ],
      8,
    );
    assert.equal(lines[0], '1.00 s – 1.10 s  ████████ 8');
    assert.equal(lines[1], '1.10 s – 1.20 s  ██       2');
  });
});

describe('lensTooltip', () => {
  it('says what each figure of the title is, over how many spans and traces', () => {
    const text = lensTooltip(stats(), { windowMinutes: 5 });
    assert.equal(
      text,
      [
        'ranker / reranking, the last 5 min:',
        'p50 1.21 s: median duration of the 120 spans in 100 traces',
        'p95 1.40 s: 95th percentile duration of the 120 spans in 100 traces',
        '52% of the critical path: its mean share of the critical path (the time the request ' +
          'waited on it) over the 100 traces',
        'n=120: spans of the stage in the window',
        '2 errors: spans with an error status',
        'Click to open the slowest recent trace with this span.',
      ].join('\n'),
    );
  });

  it('follows the statistics setting, and leaves out what the title leaves out', () => {
    const text = lensTooltip(stats({ errorCount: 0, count: 1, traceCount: 1, rootTraceCount: 1 }), {
      windowMinutes: 10,
      statistics: ['p99', 'critical', 'share', 'errors'],
    });
    assert.equal(
      text,
      [
        'ranker / reranking, the last 10 min:',
        'p99 1.48 s: 99th percentile duration of the 1 span in 1 trace',
        'Click to open the slowest recent trace with this span.',
      ].join('\n'),
    );
  });
});
