/**
 * The Logs view's core (`core/api/logs-view.ts`): records without a span context, made by the
 * OpenTelemetry JS logs SDK and decoded into a real log store, newest first, filtered by
 * severity, service and text, each linked to the trace active on its service at its time (an
 * index checked against a plain scan over random traces).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  ActiveTraceIndex,
  logsViewMessage,
  logsViewRows,
  oneLine,
  parseLogsFilter,
  type ActiveTraceSource,
} from '../../src/core/api/logs-view.js';
import { LogStore } from '../../src/core/store/log-store.js';
import { TraceStore } from '../../src/core/store/trace-store.js';
import { makeSpan } from './helpers/spans.js';
import { seededRandom } from './helpers/random.js';
import { sdkLogRecords } from './helpers/signals.js';

const T1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const T2 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2';
const T3 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3';
const SPAN = 'bbbbbbbbbbbbbbb1';
/** Epoch times (the SDK reads a small number as a time since the process started). */
const BASE = 1_764_000_000_000;
const at = (ms: number) => BASE + ms;

/** gateway over [1000, 2000] calling reranker [1200, 1800]; a second request on the reranker. */
function store(): TraceStore {
  const s = new TraceStore();
  s.add([
    makeSpan({ traceId: T1, spanId: 'g1', service: 'gateway', start: at(1000), end: at(2000) }),
    makeSpan({
      traceId: T1,
      spanId: 'r1',
      parent: 'g1',
      service: 'reranker',
      start: at(1200),
      end: at(1400),
    }),
    makeSpan({
      traceId: T1,
      spanId: 'r2',
      parent: 'g1',
      service: 'reranker',
      start: at(1600),
      end: at(1800),
    }),
    makeSpan({ traceId: T2, spanId: 'g2', service: 'gateway', start: at(1500), end: at(1700) }),
    makeSpan({
      traceId: T2,
      spanId: 'r3',
      parent: 'g2',
      service: 'reranker',
      start: at(1550),
      end: at(1650),
    }),
    makeSpan({ traceId: T3, spanId: 'x', service: 'other', start: at(5000), end: at(5001) }),
  ]);
  return s;
}

describe('logs view: the trace active on a service at a time', () => {
  it('links a record to the shortest trace of its service containing its time', () => {
    const index = ActiveTraceIndex.build(store().all());
    assert.equal(index.at('gateway', at(1100)), T1);
    // T2 [1500, 1700] is inside T1 [1000, 2000]: the narrower request is the guess.
    assert.equal(index.at('gateway', at(1600)), T2);
    assert.equal(index.at('gateway', at(2000)), T1, 'the end is inside');
    assert.equal(index.at('gateway', at(2000.5)), undefined);
    assert.equal(index.at('gateway', at(999)), undefined);
    // A service is active over the whole of a trace it has spans in.
    assert.equal(index.at('reranker', at(1100)), T1);
    assert.equal(index.at('reranker', at(1560)), T2);
    assert.equal(index.at('other', at(1500)), undefined);
    assert.equal(index.at('other', at(5000)), T3);
    assert.equal(index.at('nobody', at(1500)), undefined);
    assert.equal(index.at('gateway', Number.NaN), undefined);
    // Indexed for some services only: the others have no trace.
    const some = ActiveTraceIndex.build(store().all(), new Set(['reranker']));
    assert.equal(some.at('reranker', at(1100)), T1);
    assert.equal(some.at('gateway', at(1100)), undefined);
  });

  it('agrees with a scan over random traces', () => {
    const rand = seededRandom(7);
    const traces: ActiveTraceSource[] = [];
    for (let t = 0; t < 300; t++) {
      const startMs = Math.floor(rand() * 10_000);
      const services = Array.from(
        { length: 1 + Math.floor(rand() * 3) },
        () => `s${Math.floor(rand() * 4)}`,
      );
      traces.push({
        traceId: `t${t}`,
        startMs,
        endMs: startMs + Math.floor(rand() * (rand() < 0.1 ? 3000 : 200)),
        services,
      });
    }
    // Not a trace: no extent.
    traces.push({ traceId: 'empty', startMs: Infinity, endMs: -Infinity, services: ['s0'] });
    const index = ActiveTraceIndex.build(traces);
    for (let q = 0; q < 3000; q++) {
      const service = `s${Math.floor(rand() * 4)}`;
      const time = Math.floor(rand() * 11_000);
      let best: ActiveTraceSource | undefined;
      for (const t of traces) {
        if (!t.services.includes(service) || time < t.startMs || time > t.endMs) continue;
        const len = t.endMs - t.startMs;
        const bestLen = best === undefined ? Infinity : best.endMs - best.startMs;
        if (len < bestLen || (len === bestLen && t.startMs > best!.startMs)) best = t;
      }
      const got = traces.find((t) => t.traceId === index.at(service, time));
      // Of traces alike in extent, either is right.
      assert.deepEqual(
        got && [got.startMs, got.endMs],
        best && [best.startMs, best.endMs],
        `${service}@${time}`,
      );
    }
  });
});

describe('logs view: rows and filter', () => {
  async function logs(): Promise<LogStore> {
    const l = new LogStore();
    l.add(
      await sdkLogRecords('gateway', [
        { severityNumber: SeverityNumber.INFO, body: 'warming up', timeMs: at(900) },
        {
          severityNumber: SeverityNumber.WARN,
          severityText: 'WARNING',
          body: 'slow reranker',
          timeMs: at(1600),
        },
        // Inside a span: listed with its span, not here.
        {
          traceId: T1,
          spanId: SPAN,
          severityNumber: SeverityNumber.ERROR,
          body: 'in a span',
          timeMs: at(1100),
        },
      ]),
    );
    l.add(
      await sdkLogRecords('reranker', [
        {
          severityNumber: SeverityNumber.ERROR,
          body: 'CUDA out of memory\nTraceback (most recent call last):',
          timeMs: at(1300),
          attributes: { gpu: 0, 'exception.type': 'OutOfMemoryError' },
        },
        { body: { event: 'batch', size: 8 }, timeMs: at(1700) },
      ]),
    );
    return l;
  }

  it('lists the records without a span, newest first, each with the trace active then', async () => {
    const rows = logsViewRows(await logs(), store().all(), parseLogsFilter(''));
    assert.deepEqual(
      rows.map((r) => [r.label, r.description, r.level, r.traceId]),
      [
        ['{event: batch, size: 8}', 'reranker', '', T2],
        ['CUDA out of memory Traceback (most recent call last):', 'ERROR · reranker', 'ERROR', T1],
        ['slow reranker', 'WARNING · gateway', 'WARN', T2],
        ['warming up', 'INFO · gateway', 'INFO', undefined],
      ],
    );
  });

  it('filters by severity, service and text together', async () => {
    const l = await logs();
    const traces = [...store().all()];
    const labels = (text: string) =>
      logsViewRows(l, traces, parseLogsFilter(text)).map((r) => r.label);
    assert.deepEqual(labels('severity:warn'), [
      'CUDA out of memory Traceback (most recent call last):',
      'slow reranker',
    ]);
    assert.deepEqual(labels('level:ERROR service:reranker'), [
      'CUDA out of memory Traceback (most recent call last):',
    ]);
    assert.deepEqual(labels('service:gateway'), ['slow reranker', 'warming up']);
    // Text matches the body, the severity text and attribute values, case-insensitively.
    assert.deepEqual(labels('outofmemory'), [
      'CUDA out of memory Traceback (most recent call last):',
    ]);
    assert.deepEqual(labels('warning'), ['slow reranker']);
    assert.deepEqual(labels('in a span'), []);
    assert.deepEqual(labels('severity:17 memory'), [
      'CUDA out of memory Traceback (most recent call last):',
    ]);
  });

  it('says what it did not understand, and filters by the rest', () => {
    const f = parseLogsFilter('severity:loud  timeout ');
    assert.equal(
      f.error,
      'unknown severity "loud": use trace, debug, info, warn, error, fatal or 1-24',
    );
    assert.deepEqual(f.query, { withoutSpan: true, text: 'timeout' });
    assert.equal(f.text, 'severity:loud  timeout');
    assert.equal(parseLogsFilter('severity:99').error?.startsWith('unknown severity "99"'), true);
    assert.deepEqual(parseLogsFilter('service: level:').query, { withoutSpan: true });
    assert.equal(
      logsViewMessage({ running: true, shown: 3, filter: f }),
      'Filter: unknown severity "loud": use trace, debug, info, warn, error, fatal or 1-24',
    );
  });

  it('tells why the list is empty', () => {
    const none = parseLogsFilter('');
    assert.equal(
      logsViewMessage({ running: false, shown: 0, filter: none }),
      'The receiver is not running.',
    );
    assert.match(
      logsViewMessage({ running: true, shown: 0, filter: none }),
      /without a trace context appear here/,
    );
    assert.equal(logsViewMessage({ running: true, shown: 5, filter: none }), '');
    const f = parseLogsFilter('oom');
    assert.equal(
      logsViewMessage({ running: true, shown: 0, filter: f }),
      'No log record without a span context matches "oom".',
    );
    assert.equal(
      logsViewMessage({ running: true, shown: 1, filter: f }),
      '1 log record matching "oom"',
    );
  });

  it('shows hostile bodies on one bounded line', async () => {
    const l = new LogStore();
    l.add(
      await sdkLogRecords('evil', [
        { body: `a\u0000b\u001b[2J\r\n\u2028${'z'.repeat(100_000)}` },
        { body: '' },
      ]),
    );
    const rows = logsViewRows(l, [], parseLogsFilter(''));
    assert.equal(rows[0]!.label, '(no body)');
    const long = rows[1]!.label;
    assert.equal(long.length, 200);
    assert.ok(long.startsWith('a b [2J z'), long);
    assert.equal(oneLine('  x\ty  '), 'x y');
  });

  it('returns at most the limit', async () => {
    const l = new LogStore();
    l.add(
      await sdkLogRecords(
        'many',
        Array.from({ length: 50 }, (_, i) => ({ body: `line ${i}` })),
      ),
    );
    const rows = logsViewRows(l, [], parseLogsFilter(''), 10);
    assert.deepEqual(
      rows.map((r) => r.label),
      Array.from({ length: 10 }, (_, i) => `line ${49 - i}`),
    );
  });
});
