/**
 * OTLP/JSON ingest (src/core/otlp/otlp-json-request.ts) where it must agree with protobuf
 * ingest: 64-bit integers sent as JSON numbers are exact (or refused, naming the field, where
 * they cannot be), deep nesting rejects only the offending span (or the spans of the offending
 * resource) with the decoder's short reason, as the same request in protobuf does, and error
 * messages stay short however deep the path.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OtlpJsonError, otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import {
  decodeTraceRequest,
  type DecodedBatch,
} from '../../src/core/otlp/trace-request-decoder.js';
import { decodeSpanJson } from '../../src/core/otlp/span-details.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { WireType } from '../../src/core/otlp/proto-reader.js';
import { nestedArrayValue, nestedJsonAnyValue } from './helpers/otlp-nesting.js';

const TRACE = '0102030405060708090a0b0c0d0e0f10';
const id = (n: number) => n.toString(16).padStart(16, '0');

/** A span as OTLP/JSON text; `extra` is spliced in as more fields. */
function spanJson(n: number, extra = ''): string {
  return (
    `{"traceId":"${TRACE}","spanId":"${id(n)}","name":"s${n}",` +
    `"startTimeUnixNano":"1764000000000000000","endTimeUnixNano":"1764000000000001000"${extra}}`
  );
}

function requestJson(resources: { attributes?: string; spans: string[] }[]): string {
  const rs = resources.map(
    (r) =>
      `{"resource":{"attributes":[${r.attributes ?? ''}]},` +
      `"scopeSpans":[{"scope":{"name":"t"},"spans":[${r.spans.join(',')}]}]}`,
  );
  return `{"resourceSpans":[${rs.join(',')}]}`;
}

/** The same spans as protobuf: `attribute` is the encoded AnyValue of one attribute "k". */
function spanProto(w: ProtoWriter, n: number, attribute?: Uint8Array): void {
  w.openMessage(2);
  w.bytesField(1, Buffer.from(TRACE, 'hex')).bytesField(2, Buffer.from(id(n), 'hex'));
  w.stringField(5, `s${n}`);
  w.tag(7, WireType.I64).fixed64(1764000000000000000n);
  w.tag(8, WireType.I64).fixed64(1764000000000001000n);
  if (attribute !== undefined)
    w.message(9, (kv) => kv.stringField(1, 'k').bytesField(2, attribute));
  w.closeMessage();
}

function requestProto(
  resources: { attribute?: Uint8Array; spans: { n: number; attribute?: Uint8Array }[] }[],
): Uint8Array {
  const w = new ProtoWriter();
  for (const r of resources) {
    w.openMessage(1);
    w.message(1, (res) => {
      if (r.attribute !== undefined) {
        res.message(1, (kv) => kv.stringField(1, 'k').bytesField(2, r.attribute!));
      }
    });
    w.openMessage(2);
    w.message(1, (scope) => scope.stringField(1, 't'));
    for (const s of r.spans) spanProto(w, s.n, s.attribute);
    w.closeMessage();
    w.closeMessage();
  }
  return w.finish();
}

/** What a client learns from a batch; byte offsets differ with the encoding and are left out. */
function outcome(batch: DecodedBatch) {
  return {
    accepted: batch.spans.map((s) => s.name),
    rejected: batch.rejected,
    reasons: batch.rejectReasons.map((r) => r.replace(/ \(at byte \d+\)$/, '')),
  };
}

function attributesOf(json: string) {
  const batch = decodeTraceRequest(otlpJsonToProtobuf(json));
  assert.equal(batch.rejected, 0, batch.rejectReasons.join('; '));
  return decodeSpanJson(batch.spans[0]!.raw);
}

describe('64-bit integers sent as JSON numbers', () => {
  it('are exact: times and intValue past 2^53, to the int64 and uint64 extremes', () => {
    const span = attributesOf(
      requestJson([
        {
          spans: [
            `{"traceId":"${TRACE}","spanId":"${id(1)}",` +
              '"startTimeUnixNano":1764000000000000001,"endTimeUnixNano":18446744073709551615,' +
              '"attributes":[{"key":"max","value":{"intValue":9223372036854775807}},' +
              '{"key":"min","value":{"intValue":-9223372036854775808}},' +
              '{"key":"odd","value":{"intValue":9007199254740993}},' +
              '{"key":"small","value":{"intValue":12}},' +
              '{"key":"exp","value":{"intValue":1e3}}]}',
          ],
        },
      ]),
    );
    assert.equal(span.startTimeUnixNano, '1764000000000000001');
    assert.equal(span.endTimeUnixNano, '18446744073709551615');
    assert.deepEqual(
      span.attributes.map((a) => [a.key, a.value]),
      [
        ['max', { intValue: '9223372036854775807' }],
        ['min', { intValue: '-9223372036854775808' }],
        ['odd', { intValue: '9007199254740993' }],
        ['small', { intValue: '12' }],
        ['exp', { intValue: '1000' }],
      ],
    );
  });

  it('a long integer literal where a double is wanted is the double JSON.parse would make', () => {
    const span = attributesOf(
      requestJson([
        {
          spans: [
            spanJson(1, ',"attributes":[{"key":"d","value":{"doubleValue":12345678901234567891}}]'),
          ],
        },
      ]),
    );
    assert.deepEqual(span.attributes[0]!.value, { doubleValue: Number('12345678901234567891') });
  });

  it('are refused, naming the field, out of range or where they cannot be exact', () => {
    const cases: [string, RegExp][] = [
      [
        spanJson(1, ',"attributes":[{"key":"n","value":{"intValue":9223372036854775808}}]'),
        /spans\[0\]\.attributes\[0\]\.value\.intValue: out of the int64 range$/,
      ],
      [
        `{"traceId":"${TRACE}","spanId":"${id(1)}","startTimeUnixNano":18446744073709551616}`,
        /spans\[0\]\.startTimeUnixNano: out of the uint64 range$/,
      ],
      [
        `{"traceId":"${TRACE}","spanId":"${id(1)}","startTimeUnixNano":1.764e18}`,
        /spans\[0\]\.startTimeUnixNano: a JSON number past 2\^53 written with a fraction or exponent is not exact; send it as a decimal string$/,
      ],
      [
        spanJson(1, ',"attributes":[{"key":"n","value":{"intValue":9.007199254740993e15}}]'),
        /attributes\[0\]\.value\.intValue: a JSON number past 2\^53/,
      ],
    ];
    for (const [span, message] of cases) {
      assert.throws(
        () => otlpJsonToProtobuf(requestJson([{ spans: [span] }])),
        (e: unknown) => e instanceof OtlpJsonError && message.test(e.message),
        span,
      );
    }
  });

  it('are still refused where a string is wanted', () => {
    for (const [span, field] of [
      [`{"traceId":"${TRACE}","name":12345678901234567890}`, 'name'],
      [spanJson(1, ',"attributes":[{"key":12345678901234567890}]'), 'attributes[0].key'],
      [
        spanJson(1, ',"attributes":[{"key":"k","value":{"stringValue":12345678901234567890}}]'),
        'attributes[0].value.stringValue',
      ],
      [`{"traceId":12345678901234567890123456789012}`, 'traceId'],
    ] as const) {
      assert.throws(
        () => otlpJsonToProtobuf(requestJson([{ spans: [span] }])),
        (e: unknown) =>
          e instanceof OtlpJsonError &&
          e.path.endsWith(field) &&
          /: expected a (hex )?string$/.test(e.message),
        span,
      );
    }
  });
});

describe('nesting, as the protobuf decoder judges it', () => {
  it('a deep attribute value rejects its span alone, with the same short reason as protobuf', () => {
    for (const levels of [33, 255, 257, 5000]) {
      const json = requestJson([
        {
          spans: [
            spanJson(1),
            spanJson(2, `,"attributes":[{"key":"k","value":${nestedJsonAnyValue(levels)}}]`),
            spanJson(3),
          ],
        },
      ]);
      const proto = requestProto([
        { spans: [{ n: 1 }, { n: 2, attribute: nestedArrayValue(levels) }, { n: 3 }] },
      ]);
      const fromJson = outcome(decodeTraceRequest(otlpJsonToProtobuf(json)));
      assert.deepEqual(fromJson, outcome(decodeTraceRequest(proto)), `${levels} levels`);
      assert.deepEqual(fromJson, {
        accepted: ['s1', 's3'],
        rejected: 1,
        reasons: ['attribute value nested deeper than 32 levels'],
      });
    }
  });

  it('a deep resource attribute rejects the spans of that resource, as protobuf does', () => {
    for (const levels of [40, 5000]) {
      const json = requestJson([
        { attributes: `{"key":"k","value":${nestedJsonAnyValue(levels)}}`, spans: [spanJson(1)] },
        { spans: [spanJson(2)] },
      ]);
      const proto = requestProto([
        { attribute: nestedArrayValue(levels), spans: [{ n: 1 }] },
        { spans: [{ n: 2 }] },
      ]);
      const fromJson = outcome(decodeTraceRequest(otlpJsonToProtobuf(json)));
      assert.deepEqual(fromJson, outcome(decodeTraceRequest(proto)), `${levels} levels`);
      assert.deepEqual(fromJson.accepted, ['s2']);
      assert.match(fromJson.reasons[0]!, /^malformed resource: AnyValue nested deeper than 32/);
      assert.ok(fromJson.reasons[0]!.length < 120);
    }
  });

  it('a structural error deep in a value gives a short message with the full path kept', () => {
    const bad = '{"stringValue":7}';
    const value = '{"arrayValue":{"values":['.repeat(200) + bad + ']}}'.repeat(200);
    const json = requestJson([
      { spans: [spanJson(1, `,"attributes":[{"key":"k","value":${value}}]`)] },
    ]);
    assert.throws(
      () => otlpJsonToProtobuf(json),
      (e: unknown) => {
        assert.ok(e instanceof OtlpJsonError);
        assert.ok(e.message.length < 250, `message of ${e.message.length} characters`);
        assert.match(
          e.message,
          /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]/,
        );
        assert.match(e.message, /\.values\[0\]\.stringValue: expected a string$/);
        assert.ok(e.path.length > 4000, 'the error keeps the whole path');
        return true;
      },
    );
  });
});

describe('resource attribute limit, through JSON', () => {
  it('a resource with more attributes than a span may rejects its spans, others are kept', () => {
    const many = Array.from(
      { length: 4097 },
      (_, i) => `{"key":"k${i}","value":{"intValue":"${i}"}}`,
    );
    const json = requestJson([
      { attributes: many.join(','), spans: [spanJson(1), spanJson(2)] },
      { attributes: many.slice(0, 4096).join(','), spans: [spanJson(3)] },
    ]);
    assert.deepEqual(outcome(decodeTraceRequest(otlpJsonToProtobuf(json))), {
      accepted: ['s3'],
      rejected: 2,
      reasons: ['resource has more than 4096 attributes'],
    });
  });
});
