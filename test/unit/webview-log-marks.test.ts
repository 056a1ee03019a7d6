/**
 * The waterfall's log pieces that need no rendering: the `is:haslog` and `log:` search terms,
 * the payload's log columns through `normalizePayload` (as the JSON transport delivers them),
 * the hover text of a row's marks, and the details panel's severity and text filter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  isWebviewMessage,
  SpanFlag,
  type SpanLogLine,
  type TracePayload,
} from '../../src/protocol/messages.js';
import {
  filterSpanLogLines,
  HOVER_LINES,
  logCountText,
  logHoverText,
  severityClass,
} from '../../webview/src/model/log-marks.js';
import {
  attributeTerms,
  matchQuery,
  parseQuery,
  queryErrorMessage,
} from '../../webview/src/model/query.js';
import { buildTraceModel, normalizePayload } from '../../webview/src/model/trace-model.js';
import { payloadOf } from './helpers/webview-trace.js';

/** Three spans; row 1 wrote an INFO and a WARN line, row 2 an ERROR one. */
function withLogs(): TracePayload {
  const p = payloadOf([
    { name: 'handle', service: 'api', parent: -1, start: 0, duration: 100 },
    { name: 'embed', service: 'api', parent: 0, start: 5, duration: 30, flags: SpanFlag.HAS_LOG },
    { name: 'rerank', service: 'api', parent: 0, start: 40, duration: 50, flags: SpanFlag.HAS_LOG },
  ]);
  return {
    ...p,
    logCount: Uint32Array.from([0, 2, 1]),
    logSeverity: Uint8Array.from([0, 13, 17]),
    logMarks: Float64Array.from([1, 6, 9, 1, 30, 13, 2, 88, 17]),
    logTexts: ['INFO embedding 32 passages', 'WARN GPU memory at 93%', 'ERROR CUDA out of memory'],
  };
}

describe('log search terms', () => {
  it('is:haslog keeps the spans that wrote lines', () => {
    const model = buildTraceModel(withLogs());
    assert.deepEqual([...matchQuery(model, parseQuery('is:haslog')).mask], [0, 1, 1]);
    assert.deepEqual([...matchQuery(model, parseQuery('-is:haslog')).mask], [1, 0, 0]);
    assert.match(queryErrorMessage('is:hasnolog'), /is:haslog/);
  });

  it('log:"text" and log:word are terms the host answers, negatable, with the text as typed', () => {
    const q = parseQuery('log:"out of memory" -log:GPU embed');
    assert.deepEqual(q.errors, []);
    assert.deepEqual(attributeTerms(q), [
      { key: 'out of memory', negate: false, in: 'log' },
      { key: 'GPU', negate: true, in: 'log' },
    ]);
    // The host's rows decide; the text term still applies here.
    const model = buildTraceModel(withLogs());
    assert.deepEqual([...matchQuery(model, q, [1, 2]).mask], [0, 1, 0]);
    // Before the host answers nothing matches.
    assert.deepEqual([...matchQuery(model, q, []).mask], [0, 0, 0]);
  });

  it('level: keeps the spans that wrote a line at that severity or above', () => {
    const model = buildTraceModel(withLogs());
    const mask = (q: string) => [...matchQuery(model, parseQuery(q)).mask];
    assert.deepEqual(mask('level:info'), [0, 1, 1]);
    assert.deepEqual(mask('level:WARN'), [0, 1, 1]);
    assert.deepEqual(mask('level:error'), [0, 0, 1]);
    assert.deepEqual(mask('level:fatal'), [0, 0, 0]);
    assert.deepEqual(mask('level:14'), [0, 0, 1]);
    assert.deepEqual(mask('-level:error'), [1, 1, 0]);
    for (const bad of ['level:', 'level:loud', 'level:25', 'level:0']) {
      assert.deepEqual(parseQuery(bad).errors, [bad], bad);
      assert.match(
        queryErrorMessage(bad),
        /needs a severity \(trace, debug, info, warn, error, fatal\)/,
      );
    }
    // A payload without log columns: no span wrote anything.
    const { logSeverity: _s, ...bare } = withLogs();
    assert.deepEqual(
      [...matchQuery(buildTraceModel(bare), parseQuery('level:debug')).mask],
      [0, 0, 0],
    );
  });

  it('the host takes log terms only in their declared shape', () => {
    const search = (terms: unknown[]) => ({
      type: 'attributeSearch',
      requestId: 1,
      traceId: 'ab'.repeat(16),
      version: 1,
      terms,
    });
    assert.ok(isWebviewMessage(search([{ key: 'oom', negate: false, in: 'log' }])));
    assert.ok(!isWebviewMessage(search([{ key: 'oom', negate: false, in: 'sql' }])));
    assert.ok(!isWebviewMessage(search([{ key: 'oom', negate: false, in: 1 }])));
    assert.ok(!isWebviewMessage(search([{ key: 'x'.repeat(257), negate: false, in: 'log' }])));
    assert.ok(!isWebviewMessage(search([{ key: '', negate: false, in: 'log' }])));
  });

  it('an empty log: is unreadable and says why; log:"" is no term', () => {
    assert.deepEqual(parseQuery('log:').errors, ['log:']);
    assert.match(queryErrorMessage('log:'), /needs a text/);
    assert.deepEqual(parseQuery('log:""'), { terms: [], errors: [] });
  });
});

describe('log columns over the JSON transport', () => {
  it('become typed arrays again, and a malformed column refuses the payload', () => {
    const p = withLogs();
    const json = JSON.parse(
      JSON.stringify(p, (_k, v: unknown) =>
        ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v,
      ),
    ) as Record<string, unknown>;
    const back = normalizePayload(json);
    assert.ok(back !== null);
    assert.ok(back.logMarks instanceof Float64Array);
    assert.ok(back.logCount instanceof Uint32Array);
    assert.deepEqual([...(back.logCount ?? [])], [0, 2, 1]);
    // Without log columns a payload is still whole (a trace file opened alone).
    const { logCount: _c, logSeverity: _s, logMarks: _m, logTexts: _t, ...bare } = json;
    assert.ok(normalizePayload(bare) !== null);
    // Hostile shapes: a mark on a row that does not exist, marks without their texts, a count
    // column of the wrong length.
    assert.equal(normalizePayload({ ...json, logMarks: [7, 1, 9], logTexts: ['x'] }), null);
    assert.equal(normalizePayload({ ...json, logMarks: [1, 1, 9], logTexts: [] }), null);
    assert.equal(normalizePayload({ ...json, logMarks: [1.5, 1, 9], logTexts: ['x'] }), null);
    assert.equal(normalizePayload({ ...json, logCount: [1] }), null);
    assert.equal(normalizePayload({ ...json, logMarks: 'nope' }), null);
  });
});

describe('log marks hover', () => {
  it('reads a row’s lines with their times, and nothing for a row without', () => {
    const model = buildTraceModel(withLogs());
    assert.equal(logHoverText(model, 0), '');
    assert.equal(logCountText(model, 0), '');
    assert.equal(logCountText(model, 2), '1 log line');
    assert.equal(
      logHoverText(model, 1),
      [
        '2 log lines',
        '+6.00 ms INFO embedding 32 passages',
        '+30.0 ms WARN GPU memory at 93%',
      ].join('\n'),
    );
  });

  it('lists at most HOVER_LINES and counts the rest, the marks past the limit included', () => {
    const p = withLogs();
    const n = HOVER_LINES + 3;
    const marks: number[] = [];
    for (let i = 0; i < n; i++) marks.push(1, 10 + i, 9);
    const model = buildTraceModel({
      ...p,
      // 40 lines in all, of which the payload marks n.
      logCount: Uint32Array.from([0, 40, 0]),
      logMarks: Float64Array.from(marks),
      logTexts: Array.from({ length: n }, (_, i) => `INFO line ${i}`),
    });
    const lines = logHoverText(model, 1).split('\n');
    assert.equal(lines[0], '40 log lines');
    assert.equal(lines.length, 1 + HOVER_LINES + 1);
    assert.match(lines.at(-1) ?? '', /32 more lines/);
  });
});

describe('details panel log filter', () => {
  const line = (
    severityNumber: number,
    severity: string,
    body: string,
    attrs = {},
  ): SpanLogLine => ({
    offsetMs: 1,
    severityNumber,
    severity,
    body,
    eventName: '',
    attributes: Object.entries(attrs).map(([key, value]) => ({ key, value: String(value) })),
  });
  const lines = [
    line(5, 'DEBUG', 'cache probe'),
    line(9, 'INFO', 'embedding 32 passages', { 'gpu.id': 'cuda:0' }),
    line(13, 'WARN', 'GPU memory at 93%'),
    line(17, 'ERROR', 'CUDA out of memory'),
  ];
  it('keeps the lines at or above the level that contain the text anywhere', () => {
    assert.equal(filterSpanLogLines(lines, 0, '').length, 4);
    assert.deepEqual(
      filterSpanLogLines(lines, 13, '').map((l) => l.severity),
      ['WARN', 'ERROR'],
    );
    assert.deepEqual(
      filterSpanLogLines(lines, 0, ' CUDA ').map((l) => l.body),
      ['embedding 32 passages', 'CUDA out of memory'],
      'attribute values count; case and surrounding blanks do not',
    );
    assert.deepEqual(
      filterSpanLogLines(lines, 0, 'warn').map((l) => l.body),
      ['GPU memory at 93%'],
    );
    assert.deepEqual(filterSpanLogLines(lines, 17, 'passages'), []);
  });
  it('colours by level', () => {
    assert.deepEqual([0, 5, 9, 13, 17, 24].map(severityClass), [
      'debug',
      'debug',
      'info',
      'warn',
      'error',
      'error',
    ]);
  });
});
