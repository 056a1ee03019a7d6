/**
 * OTLP logs decoding: records made by the OpenTelemetry JS logs SDK and encoded by its own
 * serializers (protobuf, and JSON through the JSON converter) decode to the same records, with
 * every field as the SDK set it; bad input is refused whole when its framing is broken and record
 * by record otherwise (partial success); the log store stays within its bounds and its trace
 * index agrees with a scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import {
  decodeLogsRequest,
  type LogRecordEntry,
} from '../../src/core/otlp/logs-request-decoder.js';
import { OtlpJsonError, otlpLogsJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { ProtoDecodeError } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { WireType } from '../../src/core/otlp/proto-reader.js';
import { LogStore, logValueText } from '../../src/core/store/log-store.js';
import { logsToProtobuf } from '../../src/core/otlp/signal-export.js';
import { logRecordFields } from './helpers/signals.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

async function sdkRecords() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'logs-test', 'host.name': 'h1' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('stagelight.test', '1.2.3');
  const inSpan = trace.setSpanContext(context.active(), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
  });
  logger.emit({
    context: inSpan,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'reranker slow: 812 ms over 32 candidates',
    attributes: {
      'model.name': 'rerank-mini',
      batch: 32,
      ratio: 0.25,
      warm: false,
      tags: ['a', 'b'],
    },
    timestamp: 1764000000123,
  });
  logger.emit({
    severityNumber: SeverityNumber.ERROR,
    body: { error: 'timeout', attempts: 3 },
    eventName: 'retry.exhausted',
  });
  logger.emit({ body: 'no severity, no span' });
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

test('records from the JS logs SDK decode with every field, alike from protobuf and JSON', async () => {
  const records = await sdkRecords();
  const proto = ProtobufLogsSerializer.serializeRequest(records);
  const json = JsonLogsSerializer.serializeRequest(records);
  assert.ok(proto && json);
  const fromProto = decodeLogsRequest(proto);
  const fromJson = decodeLogsRequest(otlpLogsJsonToProtobuf(json));
  assert.equal(fromProto.rejected, 0, fromProto.rejectReasons.join('; '));
  assert.equal(fromJson.rejected, 0, fromJson.rejectReasons.join('; '));
  assert.deepEqual(fromJson.records.map(logRecordFields), fromProto.records.map(logRecordFields));
  // Stored records encode back (for the persistence log's compaction) to the same records.
  const again = decodeLogsRequest(logsToProtobuf(fromProto.records));
  assert.deepEqual(again.records.map(logRecordFields), fromProto.records.map(logRecordFields));

  const [warn, error, bare] = fromProto.records;
  assert.ok(warn && error && bare);
  assert.equal(warn.traceId, TRACE_ID);
  assert.equal(warn.spanId, SPAN_ID);
  assert.equal(warn.flags & 0xff, TraceFlags.SAMPLED);
  assert.equal(warn.severityNumber, SeverityNumber.WARN);
  assert.equal(warn.severityText, 'WARN');
  assert.equal(warn.timeUnixNano, '1764000000123000000');
  assert.equal(warn.timeMs, 1764000000123);
  assert.deepEqual(warn.body, { stringValue: 'reranker slow: 812 ms over 32 candidates' });
  const attrs = Object.fromEntries(warn.attributes.map((kv) => [kv.key, kv.value]));
  assert.deepEqual(attrs, {
    'model.name': { stringValue: 'rerank-mini' },
    batch: { intValue: '32' },
    ratio: { doubleValue: 0.25 },
    warm: { boolValue: false },
    tags: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } },
  });
  assert.equal(warn.resource.serviceName, 'logs-test');
  assert.equal(warn.scope.name, 'stagelight.test');
  assert.equal(warn.scope.version, '1.2.3');
  assert.equal(logValueText(error.body), '{error: timeout, attempts: 3}');
  assert.equal(error.eventName, 'retry.exhausted');
  assert.equal(error.traceId, '');
  assert.equal(bare.severityNumber, 0);
  assert.equal(bare.traceId, '');
  assert.equal(bare.spanId, '');
  // No timestamp given: the SDK stamps the record when it is emitted.
  assert.ok(Math.abs(bare.timeMs - Date.now()) < 60_000, String(bare.timeMs));
});

/** An ExportLogsServiceRequest of one resource and scope holding `records`. */
function request(records: ((w: ProtoWriter) => void)[], resourceAttrs = 1): Buffer {
  const w = new ProtoWriter();
  w.message(1, (rl) => {
    rl.message(1, (res) => {
      for (let i = 0; i < resourceAttrs; i++) {
        res.message(1, (kv) => {
          kv.stringField(1, i === 0 ? 'service.name' : `k${i}`);
          kv.message(2, (v) => v.stringField(1, i === 0 ? 'svc' : 'v'));
        });
      }
    });
    rl.message(2, (sl) => {
      sl.message(1, (s) => s.stringField(1, 'scope'));
      for (const build of records) sl.message(2, build);
    });
  });
  return w.finish();
}

const good = (body: string) => (w: ProtoWriter) => {
  w.tag(1, WireType.I64).fixed64(1764000000000000000n);
  w.tag(2, WireType.VARINT).uint32(9);
  w.message(5, (v) => v.stringField(1, body));
};

/** A body nested `levels` deep in arrays. */
function deepBody(levels: number) {
  return (w: ProtoWriter) => {
    const nest = (x: ProtoWriter, n: number): void => {
      if (n === 1) x.stringField(1, 'leaf');
      else x.message(5, (arr) => arr.message(1, (inner) => nest(inner, n - 1)));
    };
    w.message(5, (v) => nest(v, levels));
  };
}

test('bad records are refused one by one, with the reason; the rest are kept', () => {
  const many = (w: ProtoWriter) => {
    for (let i = 0; i < 5000; i++) {
      w.message(6, (kv) => {
        kv.stringField(1, `a${i}`);
        kv.message(2, (v) => v.tag(2, WireType.VARINT).bool(true));
      });
    }
  };
  const body = request([
    good('first'),
    (w) => w.tag(2, WireType.VARINT).uint32(99),
    (w) => w.bytesField(9, Buffer.alloc(5, 1)),
    (w) => w.bytesField(10, Buffer.alloc(3, 1)),
    many,
    deepBody(40),
    (w) => w.tag(5, WireType.VARINT).uint32(1), // body with the wrong wire type
    (w) => w.message(5, (v) => v.tag(4, WireType.I64).double(Number.NaN)),
    (w) => w.message(5, (v) => v.tag(4, WireType.I64).double(-Infinity)),
    (w) => {
      // All-zero ids: no span context; no time: the time it arrived.
      w.bytesField(9, Buffer.alloc(16));
      w.bytesField(10, Buffer.alloc(8));
    },
    deepBody(32),
    good('last'),
  ]);
  const out = decodeLogsRequest(body);
  assert.equal(out.rejected, 6, out.rejectReasons.join('; '));
  assert.deepEqual(out.rejectReasons.slice(0, 4), [
    'severity_number must be 0 to 24, got 99',
    'trace_id must be 16 bytes, got 5',
    'span_id must be 8 bytes, got 3',
    'log record has more than 4096 attributes',
  ]);
  assert.match(
    out.rejectReasons[4] ?? '',
    /^malformed log record: AnyValue nested deeper than 32 levels \(at byte \d+\)$/,
  );
  const bodies = out.records.map((r) => r.body);
  assert.equal(out.records.length, 6);
  assert.deepEqual(bodies[0], { stringValue: 'first' });
  assert.ok(Number.isNaN((bodies[1] as { doubleValue: number }).doubleValue));
  assert.deepEqual(bodies[2], { doubleValue: -Infinity });
  assert.equal(out.records[3]?.traceId, '');
  assert.equal(out.records[3]?.spanId, '');
  assert.equal(out.records[3]?.timeUnixNano, '0');
  assert.ok(Math.abs((out.records[3]?.timeMs ?? 0) - Date.now()) < 60_000);
  assert.deepEqual(bodies[5], { stringValue: 'last' });
  // The records keep their own bytes, copied out of the request into one buffer of exactly
  // their size: the refused records' bytes (the 5,000 attributes) are not held with them.
  assert.equal(new Set(out.records.map((r) => r.raw.buffer)).size, 1);
  for (let i = 1; i < out.records.length; i++) {
    const a = out.records[i - 1]!.raw;
    assert.equal(out.records[i]!.raw.byteOffset, a.byteOffset + a.length, 'back to back');
  }
  const kept = out.records.reduce((n, r) => n + r.raw.length, 0);
  assert.ok(kept < 2000 && body.length > 40_000, `${kept} of ${body.length} bytes`);
  const before = out.records.map((r) => Buffer.from(r.raw).toString('hex'));
  body.fill(0);
  assert.deepEqual(
    out.records.map((r) => Buffer.from(r.raw).toString('hex')),
    before,
    'raw does not alias the request',
  );
});

test('broken framing refuses the whole request; a resource with too many attributes its records', () => {
  const bytes = request([good('a'), good('b')]);
  for (const cut of [1, 5, bytes.length - 3, bytes.length - 1]) {
    assert.throws(() => decodeLogsRequest(bytes.subarray(0, cut)), ProtoDecodeError, `cut ${cut}`);
  }
  // resource_logs with the wrong wire type
  assert.throws(() => decodeLogsRequest(Buffer.from([0x08, 0x01])), /resource_logs/);
  const crowded = decodeLogsRequest(request([good('a'), good('b')], 5000));
  assert.equal(crowded.records.length, 0);
  assert.equal(crowded.rejected, 2);
  assert.deepEqual(crowded.rejectReasons, ['resource has more than 4096 attributes']);
  assert.deepEqual(decodeLogsRequest(Buffer.alloc(0)), {
    records: [],
    rejected: 0,
    rejectReasons: [],
  });
});

test('OTLP/JSON logs: severity names, clear errors for structure, ids checked like spans', () => {
  const doc = (record: unknown) =>
    JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [record] }] }],
    });
  const named = decodeLogsRequest(
    otlpLogsJsonToProtobuf(
      doc({ severityNumber: 'SEVERITY_NUMBER_ERROR2', body: { stringValue: 'x' } }),
    ),
  );
  assert.equal(named.records[0]?.severityNumber, 18);
  assert.throws(() => otlpLogsJsonToProtobuf('{"resourceLogs": ['), OtlpJsonError);
  assert.throws(
    () => otlpLogsJsonToProtobuf(doc({ traceId: 'zz' })),
    /resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.traceId: expected a hex string/,
  );
  assert.throws(() => otlpLogsJsonToProtobuf(doc({ timeUnixNano: -1 })), /timeUnixNano/);
  assert.throws(() => otlpLogsJsonToProtobuf('[]'), /ExportLogsServiceRequest/);
  const short = decodeLogsRequest(otlpLogsJsonToProtobuf(doc({ traceId: 'abcd' })));
  assert.deepEqual(short.rejectReasons, ['trace_id must be 16 bytes, got 2']);
  // A spans document sent to the logs route has no records, and is no error.
  assert.equal(
    decodeLogsRequest(otlpLogsJsonToProtobuf('{"resourceSpans": [{}]}')).records.length,
    0,
  );
});

function entry(i: number, traceId: string, spanId = '', severity = 9): LogRecordEntry {
  const rec = decodeLogsRequest(
    request([
      (w) => {
        w.tag(1, WireType.I64).fixed64(BigInt(1764000000000 + i) * 1_000_000n);
        w.tag(2, WireType.VARINT).uint32(severity);
        w.message(5, (v) => v.stringField(1, `line ${i}`));
        if (traceId !== '') w.bytesField(9, Buffer.from(traceId, 'hex'));
        if (spanId !== '') w.bytesField(10, Buffer.from(spanId, 'hex'));
      },
    ]),
  ).records[0];
  assert.ok(rec);
  return rec;
}

test('the log store keeps its bounds, oldest first, and its trace index agrees with a scan', () => {
  const traces = ['a', 'b', 'c'].map((c) => c.repeat(32));
  const size = entry(0, '').bytes;
  const store = new LogStore({ maxBytes: size * 50 + 3 * 96, maxRecords: 1000 });
  for (let i = 0; i < 200; i++) {
    store.add([entry(i, traces[i % 3] as string, i % 2 === 0 ? '1'.repeat(16) : '', 9 + (i % 16))]);
    assert.ok(store.bytes <= size * 50 + 3 * 96, `bytes ${store.bytes} after ${i}`);
  }
  // Records with a trace id (and some with a span id) cost more than `size`.
  const largest = entry(0, traces[0] as string, '1'.repeat(16)).bytes;
  const fit = size * 50;
  assert.ok(
    store.count >= Math.floor(fit / largest) && store.count <= 50,
    `${store.count} records of ${size}-${largest} bytes in ${fit}`,
  );
  assert.equal(store.evicted, 200 - store.count);
  const all = store.query({ limit: 10_000 });
  assert.equal(all.length, store.count);
  assert.equal(logValueText(all[0]?.body), 'line 199', 'newest first');
  for (const t of traces) {
    const scanned = all.filter((r) => r.traceId === t).sort((x, y) => x.timeMs - y.timeMs);
    assert.deepEqual(store.forTrace(t), scanned);
    assert.deepEqual(
      store.forTrace(t, '1'.repeat(16)),
      scanned.filter((r) => r.spanId !== ''),
    );
  }
  assert.ok(store.query({ minSeverity: 17 }).every((r) => r.severityNumber >= 17));
  assert.deepEqual(
    store.query({ text: 'LINE 19' }).map((r) => logValueText(r.body)),
    [
      'line 199',
      'line 198',
      'line 197',
      'line 196',
      'line 195',
      'line 194',
      'line 193',
      'line 192',
      'line 191',
      'line 190',
    ].filter((l) => all.some((r) => logValueText(r.body) === l)),
  );
  const byCount = new LogStore({ maxBytes: 1e9, maxRecords: 10 });
  for (let i = 0; i < 25; i++) byCount.add([entry(i, traces[0] as string)]);
  assert.equal(byCount.count, 10);
  assert.equal(byCount.forTrace(traces[0] as string).length, 10);
  byCount.clear();
  assert.equal(byCount.bytes, 0);
  assert.deepEqual(byCount.forTrace(traces[0] as string), []);
});
