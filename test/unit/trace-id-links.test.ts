/**
 * Trace ids in terminal output and log lines: the forms that are links, the near-misses that are
 * not, and hostile lines (very long, all hex, all prefixes) that must stay fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTraceIdLinks, MAX_SCANNED_CHARS } from '../../src/core/backend/trace-id-links.js';

const ID = '0af7651916cd43dd8448eb211c80319c';

/** The ids found, and the text each link covers. */
function found(line: string): Array<[string, string]> {
  return findTraceIdLinks(line).map((l) => [l.traceId, line.slice(l.start, l.end)]);
}

test('the forms of a trace id that become links', () => {
  const linked = [
    `INFO request done trace_id=${ID} span_id=b7ad6b7169203331`,
    `trace_id: ${ID}`,
    `{"trace_id": "${ID}", "level": "info"}`,
    `{"traceId":"${ID}"}`,
    `otelTraceID=${ID} otelSpanID=b7ad6b7169203331`,
    `trace.id='${ID}'`,
    `traceparent: 00-${ID}-b7ad6b7169203331-01`,
    `curl -H "traceparent: 00-${ID}-b7ad6b7169203331-00" http://x`,
    `2026-12-01 12:00:00 slow trace ${ID} took 3.2 s`,
    `Trace ID ${ID}`,
    `[trace] (${ID})`,
  ];
  for (const line of linked) {
    const f = found(line);
    assert.equal(f.length, 1, line);
    assert.deepEqual(f[0], [ID, ID], line);
  }
  // Upper case is read and given back lower case.
  assert.deepEqual(found(`TRACE_ID=${ID.toUpperCase()}`), [[ID, ID.toUpperCase()]]);
  // Several on one line, left to right.
  const other = 'f'.repeat(31) + 'e';
  assert.deepEqual(
    found(`trace_id=${ID} then traceparent=00-${other}-b7ad6b7169203331-01`).map((x) => x[0]),
    [ID, other],
  );
});

test('near-misses are not links', () => {
  const notLinked = [
    `commit ${ID}`, // a bare id with no "trace" before it
    `sha256 ${ID}${ID} trace`, // 64 hex digits
    `trace_id=${ID}0`, // 33 digits
    `trace_id=${ID.slice(1)}`, // 31 digits
    `trace_id=${ID}g`, // glued to a letter
    `trace_id=x${ID}`,
    `trace_id=00000000000000000000000000000000`, // the invalid all-zero id
    `traceparent: 00-00000000000000000000000000000000-b7ad6b7169203331-01`,
    `parent: 00-${ID}-b7ad6b716920333-01`, // a short parent id: not a traceparent
    `uuid ${ID.slice(0, 8)}-${ID.slice(8, 12)}-${ID.slice(12, 16)}-${ID.slice(16, 20)}-${ID.slice(20)}`,
    `trace: ${'z'.repeat(32)}`,
    '',
  ];
  for (const line of notLinked) {
    assert.deepEqual(found(line), [], line);
  }
  // "trace" far before a bare id does not count.
  assert.deepEqual(found(`trace ${' '.repeat(60)}${ID}`), []);
  assert.deepEqual(found(`trace ${' '.repeat(30)}${ID}`).length, 1);
});

test('hostile lines stay linear and are read up to the cap', () => {
  const lines = [
    'trace ' + 'a'.repeat(2_000_000),
    ' 0'.repeat(1_000_000),
    ' 00-'.repeat(500_000),
    'trace_id='.repeat(250_000),
    `trace ${ID}-`.repeat(50_000),
    'x'.repeat(10_000_000),
  ];
  for (const line of lines) {
    const t0 = performance.now();
    findTraceIdLinks(line);
    const ms = performance.now() - t0;
    assert.ok(ms < 250, `${line.slice(0, 20)}...: ${ms.toFixed(1)} ms`);
  }
  // Ids past the cap are not searched for; those before it are.
  const pad = ' '.repeat(MAX_SCANNED_CHARS);
  assert.deepEqual(found(`trace_id=${ID}${pad}trace_id=${ID}`).length, 1);
  assert.deepEqual(found(`${pad}trace_id=${ID}`), []);
  const many = findTraceIdLinks(`trace_id=${ID} `.repeat(10_000));
  assert.ok(many.length > 1000 && many.every((l) => l.traceId === ID));
});
