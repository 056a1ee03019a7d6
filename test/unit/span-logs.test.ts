/**
 * A trace's logs in the waterfall (`core/api/span-logs.ts`): spans from the OpenTelemetry JS
 * tracing SDK and log lines from its logs SDK (emitted inside the spans, so they carry the span
 * context), both encoded by the SDK's own protobuf serializers and ingested by a real engine.
 * The payload counts and marks each span's lines, the details list them, `log:` searches them,
 * and Export Trace's logs document reads back through the receiver's `/v1/logs` path intact.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceEngine } from '../../src/core/engine.js';
import { buildTracePayload, rowOfSpan } from '../../src/core/api/trace-payload.js';
import { searchAttributes } from '../../src/core/api/attribute-search.js';
import { spanLogLines } from '../../src/core/api/span-logs.js';
import { logsPathBeside, logsToOtlpJson } from '../../src/core/otlp/logs-export.js';
import { stringifyOtlpJson } from '../../src/core/otlp/export.js';
import { LOG_MARK_LIMIT, SPAN_LOG_LIMIT, SpanFlag } from '../../src/protocol/messages.js';

import { logRecordFields } from './helpers/signals.js';
import { makeLoggedTrace, T0, type LoggedTrace } from './helpers/span-logs-trace.js';

/** Epoch-ms doubles carry ~0.2 µs of rounding; compare at µs precision. */
const us = (x: number): number => Math.round(x * 1000) / 1000;
const engines: TraceEngine[] = [];
after(async () => {
  for (const e of engines) await e.close();
});

async function makeTrace(extraLines = 0): Promise<LoggedTrace> {
  const made = await makeLoggedTrace(extraLines);
  engines.push(made.engine);
  return made;
}

function payloadOf(m: LoggedTrace) {
  const entry = m.engine.store.get(m.traceId);
  const analysis = m.engine.analyze(m.traceId);
  assert.ok(entry !== undefined && analysis !== undefined);
  const payload = buildTracePayload(entry, analysis, { logs: m.engine.signals.logStore });
  const row = (k: keyof LoggedTrace['ids']) => rowOfSpan(analysis, m.ids[k]);
  return { payload, analysis, row };
}

describe('span logs in the trace payload', () => {
  it('counts, highest severities, marks and the HAS_LOG flag per row', async () => {
    const m = await makeTrace();
    const { payload, row } = payloadOf(m);
    const count = payload.logCount as Uint32Array;
    const sev = payload.logSeverity as Uint8Array;
    assert.equal(count[row('embed')], 2);
    assert.equal(sev[row('embed')], SeverityNumber.WARN);
    assert.equal(count[row('rerank')], 1);
    assert.equal(sev[row('rerank')], SeverityNumber.ERROR);
    assert.equal(count[row('quiet')], 0);
    assert.equal(count[row('root')], 0, 'the line without a span context is on no span');
    for (const k of ['embed', 'rerank'] as const) {
      assert.ok(((payload.flags[row(k)] as number) & SpanFlag.HAS_LOG) !== 0, k);
    }
    for (const k of ['root', 'quiet'] as const) {
      assert.equal((payload.flags[row(k)] as number) & SpanFlag.HAS_LOG, 0, k);
    }
    // Marks: (row, ms from the trace start, severity), in time order, with the hover's text.
    const marks = [...(payload.logMarks as Float64Array)].map(us);
    assert.deepEqual(marks, [
      row('embed'),
      6,
      SeverityNumber.INFO,
      row('embed'),
      30,
      SeverityNumber.WARN,
      row('rerank'),
      88,
      SeverityNumber.ERROR,
    ]);
    assert.deepEqual(payload.logTexts, [
      'INFO embedding 32 passages',
      'WARN GPU memory at 93%',
      'ERROR {error: CUDA out of memory, attempt: 2}',
    ]);
  });

  it('keeps the counts exact past the mark limit, and no log columns without a store', async () => {
    const m = await makeTrace(LOG_MARK_LIMIT + 10);
    const { payload, row, analysis } = payloadOf(m);
    assert.equal(payload.logCount?.[row('embed')], LOG_MARK_LIMIT + 12);
    assert.equal(payload.logTexts?.length, LOG_MARK_LIMIT);
    assert.equal(payload.logMarks?.length, LOG_MARK_LIMIT * 3);
    const bare = buildTracePayload(m.engine.store.get(m.traceId)!, analysis);
    assert.equal(bare.logCount, undefined);
    assert.equal(bare.logMarks, undefined);
    assert.equal((bare.flags[row('embed')] as number) & SpanFlag.HAS_LOG, 0);
    // A span's details list the earliest SPAN_LOG_LIMIT lines and say how many there are.
    const listed = spanLogLines(m.engine.signals.logStore, m.traceId, m.ids.embed, T0);
    assert.equal(listed.total, LOG_MARK_LIMIT + 12);
    assert.equal(listed.lines.length, SPAN_LOG_LIMIT);
  });
});

describe('span log lines for the details panel', () => {
  it('lists a span’s lines by time, relative to the trace start, with their attributes', async () => {
    const m = await makeTrace();
    const { lines, total } = spanLogLines(m.engine.signals.logStore, m.traceId, m.ids.embed, T0);
    assert.equal(total, 2);
    assert.deepEqual(
      lines.map((l) => ({ ...l, offsetMs: us(l.offsetMs) })),
      [
        {
          offsetMs: 6,
          severityNumber: SeverityNumber.INFO,
          severity: 'INFO',
          body: 'embedding 32 passages',
          eventName: '',
          attributes: [{ key: 'batch.size', value: '32' }],
        },
        {
          offsetMs: 30,
          severityNumber: SeverityNumber.WARN,
          severity: 'WARN',
          body: 'GPU memory at 93%',
          eventName: '',
          attributes: [{ key: 'gpu.id', value: 'cuda:0' }],
        },
      ],
    );
    // No severity text: the level of the number.
    const err = spanLogLines(m.engine.signals.logStore, m.traceId, m.ids.rerank, T0);
    assert.equal(err.lines[0]?.severity, 'ERROR');
    assert.deepEqual(spanLogLines(m.engine.signals.logStore, m.traceId, m.ids.quiet, T0), {
      lines: [],
      total: 0,
    });
  });
});

describe('log: search terms', () => {
  it('finds the spans that wrote a line with the text, in body, attributes or severity', async () => {
    const m = await makeTrace();
    const { analysis, row } = payloadOf(m);
    const logs = m.engine.signals.logStore;
    const search = (key: string, negate = false) =>
      searchAttributes(analysis, [{ key, negate, in: 'log' }], logs);
    assert.deepEqual(search('cuda out OF memory'), [row('rerank')]);
    assert.deepEqual(
      search('cuda'),
      [row('embed'), row('rerank')].sort((a, b) => a - b),
    );
    assert.deepEqual(search('warn'), [row('embed')]);
    assert.deepEqual(search('no span context'), [], 'a line without a span marks no span');
    assert.deepEqual(
      search('cuda', true),
      [row('root'), row('quiet')].sort((a, b) => a - b),
    );
    // Combined with an attribute term; without a log store no span wrote anything.
    assert.deepEqual(
      searchAttributes(
        analysis,
        [
          { key: 'gpu', negate: false, in: 'log' },
          { key: 'service.name', value: 'retrieval', negate: false },
        ],
        logs,
      ),
      [row('embed')],
    );
    assert.deepEqual(searchAttributes(analysis, [{ key: 'cuda', negate: false, in: 'log' }]), []);
  });
});

describe('Export Trace logs document', () => {
  it('is an OTLP/JSON ExportLogsServiceRequest that reads back intact through /v1/logs', async () => {
    const m = await makeTrace();
    const records = m.engine.signals.logStore.forTrace(m.traceId);
    assert.equal(records.length, 3);
    assert.equal(m.engine.signals.logStore.countFor(m.traceId), 3);
    assert.equal(m.engine.signals.logStore.countFor('f'.repeat(32)), 0);
    const text = stringifyOtlpJson(logsToOtlpJson(records));
    const doc = JSON.parse(text) as ReturnType<typeof logsToOtlpJson>;
    assert.equal(doc.resourceLogs.length, 1);
    assert.equal(doc.resourceLogs[0]?.scopeLogs[0]?.scope.name, 'span-logs.test');
    const fresh = await TraceEngine.open({});
    engines.push(fresh);
    const outcome = fresh.logs.ingestJson(Buffer.from(text, 'utf8'), 'http');
    assert.equal(outcome.accepted, 3);
    assert.equal(outcome.rejected, 0);
    assert.deepEqual(
      fresh.signals.logStore.forTrace(m.traceId).map(logRecordFields),
      records.map(logRecordFields),
    );
    assert.equal(logsPathBeside('/tmp/trace-abc.json'), '/tmp/trace-abc.logs.json');
    assert.equal(logsPathBeside('/tmp/trace-abc.JSON'), '/tmp/trace-abc.logs.json');
    assert.equal(logsPathBeside('/tmp/trace'), '/tmp/trace.logs.json');
  });
});
