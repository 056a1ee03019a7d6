/**
 * Malformed and hostile input to the OTLP codec: every case must end in a `ProtoDecodeError` or
 * `OtlpJsonError` whose message names the problem, never a crash, a RangeError from the stack,
 * or a silently wrong value.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ProtoDecodeError, WireType } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import {
  MAX_ANY_VALUE_DEPTH,
  attributeValue,
  decodeAnyValue,
  decodeScope,
  decodeSpanJson,
} from '../../src/core/otlp/span-details.js';
import {
  JSON_MAX_NESTING,
  OtlpJsonError,
  otlpJsonToProtobuf,
} from '../../src/core/otlp/otlp-json-request.js';
import { decodeExportRequestJson } from '../../src/core/otlp/export.js';
import { NO_LINKS, SpanRecord } from '../../src/core/model.js';
import { resourceInfo, scopeInfo, sdkReference, spanBytesOf } from './otlp-codec-fixtures.js';
import { nestedArrayValue, nestedJsonAnyValue } from './helpers/otlp-nesting.js';
import { decodeTraceRequest } from '../../src/core/otlp/trace-request-decoder.js';

function protoError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ProtoDecodeError, `expected ProtoDecodeError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  };
}

function jsonError(message: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof OtlpJsonError, `expected OtlpJsonError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  };
}

function jsonWithAttributeValue(valueJson: string): string {
  return (
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",' +
    `"spanId":"0102030405060708","attributes":[{"key":"k","value":${valueJson}}]}]}]}]}`
  );
}

const ATTR_PATH = 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value';

describe('protobuf decoding of malformed input', () => {
  const validSpan = () =>
    new ProtoWriter()
      .bytesField(1, Buffer.alloc(16, 1))
      .bytesField(2, Buffer.alloc(8, 2))
      .stringField(5, 'name');

  it('reports truncation inside a fixed64, a length-delimited field and a varint', () => {
    const span = validSpan().tag(7, WireType.I64).fixed64('1700000000000000000').finish();
    assert.throws(
      () => decodeSpanJson(span.subarray(0, span.length - 3)),
      protoError(/truncated fixed64/),
    );
    assert.throws(
      () => decodeSpanJson(span.subarray(0, 10)),
      protoError(/length 16 runs past the end/),
    );
    const varint = validSpan().tag(6, WireType.VARINT).finish();
    assert.throws(() => decodeSpanJson(varint), protoError(/truncated varint/));
    // Every strict prefix of the SDK's encoding that cuts a field must fail, never mis-decode.
    const sdkSpan = spanBytesOf(sdkReference().protobuf)[1]!;
    let failures = 0;
    for (let n = 1; n < sdkSpan.length; n++) {
      try {
        decodeSpanJson(sdkSpan.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof ProtoDecodeError, String(e));
        failures++;
      }
    }
    assert.ok(failures > sdkSpan.length / 2);
  });

  it('reports a known field with the wrong wire type', () => {
    const nameAsVarint = validSpan().tag(5, WireType.VARINT).uint32(1).finish();
    assert.throws(
      () => decodeSpanJson(nameAsVarint),
      protoError(/field Span.name has wire type 0, expected 2/),
    );
    const timeAsLen = validSpan().stringField(7, 'now').finish();
    assert.throws(
      () => decodeSpanJson(timeAsLen),
      protoError(/field Span.start_time_unix_nano has wire type 2, expected 1/),
    );
    const intAsFixed = new ProtoWriter().tag(3, WireType.I64).fixed64(1n).finish();
    assert.throws(
      () => decodeAnyValue(intAsFixed),
      protoError(/AnyValue.int_value has wire type 1/),
    );
    const scopeNameAsFixed32 = new ProtoWriter().tag(1, WireType.I32).fixed32(1).finish();
    assert.throws(
      () => decodeScope(scopeNameAsFixed32),
      protoError(/InstrumentationScope.name has wire type 5/),
    );
    // Built directly: the fixture's spanRecord() would decode (and refuse) the whole span.
    const record = new SpanRecord(
      '01'.repeat(16),
      '02'.repeat(8),
      '',
      'name',
      0,
      0,
      0,
      0,
      NO_LINKS,
      resourceInfo(new Uint8Array(0)),
      scopeInfo(new Uint8Array(0)),
      validSpan()
        .message(9, (w) => w.stringField(1, 'k').tag(2, WireType.VARINT).uint32(1))
        .finish(),
    );
    assert.throws(() => attributeValue(record, 'k'), protoError(/KeyValue.value has wire type 0/));
  });

  it('skips unknown fields of every wire type but refuses groups and field 0', () => {
    const plain = validSpan().finish();
    const extended = validSpan()
      .tag(100, WireType.VARINT)
      .uint64(2n ** 63n)
      .tag(101, WireType.I64)
      .fixed64(7n)
      .stringField(102, 'future')
      .tag(103, WireType.I32)
      .fixed32(9)
      .finish();
    assert.deepEqual(decodeSpanJson(extended), decodeSpanJson(plain));
    const group = validSpan().tag(104, WireType.SGROUP).finish();
    assert.throws(() => decodeSpanJson(group), protoError(/unsupported wire type 3/));
    assert.throws(() => decodeSpanJson(Uint8Array.of(0x02, 0x00)), protoError(/field number 0/));
  });

  it(`accepts AnyValue nesting up to ${MAX_ANY_VALUE_DEPTH} levels and refuses deeper`, () => {
    // levels arrays + the string = levels + 1 AnyValues.
    assert.doesNotThrow(() => decodeAnyValue(nestedArrayValue(MAX_ANY_VALUE_DEPTH - 1)));
    assert.throws(
      () => decodeAnyValue(nestedArrayValue(MAX_ANY_VALUE_DEPTH)),
      protoError(/AnyValue nested deeper than 32 levels/),
    );
  });

  it('refuses 100000 levels of arrayValue without exhausting the stack', () => {
    const deep = nestedArrayValue(100_000);
    assert.throws(() => decodeAnyValue(deep), protoError(/AnyValue nested deeper than 32 levels/));
    const span = validSpan()
      .message(9, (w) => w.stringField(1, 'deep').bytesField(2, deep))
      .finish();
    assert.throws(() => decodeSpanJson(span), protoError(/nested deeper than 32 levels/));
    const request = new ProtoWriter()
      .message(1, (w) => w.message(2, (w) => w.bytesField(2, span)))
      .finish();
    assert.throws(() => decodeExportRequestJson(request), protoError(/nested deeper/));
  });
});

describe('OTLP/JSON ingest of malformed input', () => {
  it('refuses invalid JSON and a root that is not an object', () => {
    assert.throws(() => otlpJsonToProtobuf('{"resourceSpans": ['), jsonError(/^invalid JSON: /));
    assert.throws(() => otlpJsonToProtobuf(''), jsonError(/^invalid JSON: /));
    assert.throws(
      () => otlpJsonToProtobuf('[]'),
      jsonError('expected a JSON object (ExportTraceServiceRequest)'),
    );
    assert.throws(
      () => otlpJsonToProtobuf('null'),
      jsonError('expected a JSON object (ExportTraceServiceRequest)'),
    );
  });

  it('names the path of a field of the wrong JSON type', () => {
    const cases: [string, string][] = [
      ['{"resourceSpans":{}}', 'resourceSpans: expected an array'],
      ['{"resourceSpans":[1]}', 'resourceSpans[0]: expected an object'],
      ['{"resourceSpans":[{"resource":[]}]}', 'resourceSpans[0].resource: expected an object'],
      [
        '{"resourceSpans":[{"resource":{"droppedAttributesCount":-1}}]}',
        'resourceSpans[0].resource.droppedAttributesCount: expected an unsigned 32-bit integer',
      ],
      [
        '{"resourceSpans":[{"scopeSpans":[{"scope":{"name":7}}]}]}',
        'resourceSpans[0].scopeSpans[0].scope.name: expected a string',
      ],
      [
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","kind":"fast"}]}]}]}',
        'resourceSpans[0].scopeSpans[0].spans[0].kind: expected an enum integer',
      ],
      [
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":1.5}}]}]}]}',
        'resourceSpans[0].scopeSpans[0].spans[0].status.code: expected an enum integer',
      ],
      [
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"events":[{"timeUnixNano":true}]}]}]}]}',
        'resourceSpans[0].scopeSpans[0].spans[0].events[0].timeUnixNano: expected an unsigned integer string',
      ],
      [
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"links":[{"flags":"x"}]}]}]}]}',
        'resourceSpans[0].scopeSpans[0].spans[0].links[0].flags: expected an unsigned 32-bit integer',
      ],
      [
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":1}]}]}]}]}',
        'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key: expected a string',
      ],
    ];
    for (const [json, message] of cases) {
      assert.throws(() => otlpJsonToProtobuf(json), jsonError(message), json);
    }
  });

  it('refuses a non-numeric time, with the full path', () => {
    const spans = [{}, {}, {}, { startTimeUnixNano: '17e8' }];
    const doc = { resourceSpans: [{ scopeSpans: [{ spans: [] }, { spans }] }] };
    assert.throws(
      () => otlpJsonToProtobuf(JSON.stringify(doc)),
      jsonError(
        'resourceSpans[0].scopeSpans[1].spans[3].startTimeUnixNano: expected an unsigned integer string',
      ),
    );
    for (const bad of ['-1', '1.5', ' 1', '']) {
      const one = { resourceSpans: [{ scopeSpans: [{ spans: [{ endTimeUnixNano: bad }] }] }] };
      assert.throws(
        () => otlpJsonToProtobuf(JSON.stringify(one)),
        jsonError(/endTimeUnixNano: expected an unsigned integer string$/),
        bad,
      );
    }
    const tooBig = {
      resourceSpans: [{ scopeSpans: [{ spans: [{ endTimeUnixNano: '18446744073709551616' }] }] }],
    };
    assert.throws(
      () => otlpJsonToProtobuf(JSON.stringify(tooBig)),
      jsonError(/endTimeUnixNano: out of the uint64 range$/),
    );
  });

  it('refuses ids that are not hex, including base64', () => {
    for (const [id, problem] of [
      ['AQIDBAUGBwgJCgsMDQ4PEA==', 'expected a hex string'],
      ['zz02030405060708090a0b0c0d0e0f10', 'expected a hex string'],
      ['010', 'expected a hex string of even length'],
    ]) {
      const doc = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: id }] }] }] };
      assert.throws(
        () => otlpJsonToProtobuf(JSON.stringify(doc)),
        jsonError(`resourceSpans[0].scopeSpans[0].spans[0].traceId: ${problem}`),
      );
    }
    const link = { resourceSpans: [{ scopeSpans: [{ spans: [{ links: [{ spanId: 5 }] }] }] }] };
    assert.throws(
      () => otlpJsonToProtobuf(JSON.stringify(link)),
      jsonError('resourceSpans[0].scopeSpans[0].spans[0].links[0].spanId: expected a hex string'),
    );
  });

  it('refuses malformed attribute values', () => {
    const cases: [string, string][] = [
      ['"text"', `${ATTR_PATH}: expected an object`],
      ['{"intValue":1.5}', `${ATTR_PATH}.intValue: expected an integer string`],
      ['{"intValue":"0x10"}', `${ATTR_PATH}.intValue: expected an integer string`],
      ['{"intValue":"9223372036854775808"}', `${ATTR_PATH}.intValue: out of the int64 range`],
      ['{"doubleValue":"fast"}', `${ATTR_PATH}.doubleValue: expected a number`],
      ['{"boolValue":"true"}', `${ATTR_PATH}.boolValue: expected a boolean`],
      ['{"bytesValue":"not base64!"}', `${ATTR_PATH}.bytesValue: expected a base64 string`],
      ['{"arrayValue":[]}', `${ATTR_PATH}.arrayValue: expected an object`],
      ['{"arrayValue":{"values":[null]}}', `${ATTR_PATH}.arrayValue.values[0]: expected an object`],
      [
        '{"kvlistValue":{"values":[{"key":"a","value":{"stringValue":1}}]}}',
        `${ATTR_PATH}.kvlistValue.values[0].value.stringValue: expected a string`,
      ],
      [
        '{"stringValue":"a","intValue":"1"}',
        `${ATTR_PATH}: more than one value set (stringValue, intValue)`,
      ],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => otlpJsonToProtobuf(jsonWithAttributeValue(value)),
        jsonError(message),
        value,
      );
    }
  });

  it(`cuts AnyValues nested past ${JSON_MAX_NESTING} levels; the decoder rejects the span`, () => {
    // Past MAX_ANY_VALUE_DEPTH the request converts and the protobuf decoder rejects that span
    // alone (partial success), as it does the same request in protobuf; past JSON_MAX_NESTING
    // the converter stops walking, and the outcome is the same.
    assert.ok(JSON_MAX_NESTING > MAX_ANY_VALUE_DEPTH);
    for (const levels of [MAX_ANY_VALUE_DEPTH, JSON_MAX_NESTING - 1, JSON_MAX_NESTING + 1]) {
      const bytes = otlpJsonToProtobuf(jsonWithAttributeValue(nestedJsonAnyValue(levels)));
      const batch = decodeTraceRequest(bytes);
      assert.equal(batch.rejected, 1, `${levels} levels`);
      assert.deepEqual(batch.rejectReasons, ['attribute value nested deeper than 32 levels']);
    }
  });

  it('converts 100000 levels of arrayValue without exhausting the stack', () => {
    const bytes = otlpJsonToProtobuf(jsonWithAttributeValue(nestedJsonAnyValue(100_000)));
    assert.ok(bytes.length < 10_000, 'the value was cut, not converted whole');
    assert.deepEqual(decodeTraceRequest(bytes).rejectReasons, [
      'attribute value nested deeper than 32 levels',
    ]);
  });

  it('stays fast on pathological numbers (no quadratic parsing or regex backtracking)', () => {
    const digits = '1'.repeat(1_000_000);
    const started = performance.now();
    const time = { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: digits }] }] }] };
    assert.throws(
      () => otlpJsonToProtobuf(JSON.stringify(time)),
      jsonError(/out of the uint64 range$/),
    );
    assert.throws(
      () => otlpJsonToProtobuf(jsonWithAttributeValue(`{"intValue":"-${digits}"}`)),
      jsonError(/intValue: out of the int64 range$/),
    );
    assert.throws(
      () => otlpJsonToProtobuf(jsonWithAttributeValue(`{"doubleValue":"${digits}x"}`)),
      jsonError(/doubleValue: expected a number$/),
    );
    assert.ok(performance.now() - started < 2000, 'took too long');
  });
});
