/**
 * OTLP/JSON ingest (src/core/otlp/otlp-json-request.ts) where it must agree with protobuf
 * ingest: 64-bit integers sent as JSON numbers are exact (or refused, naming the field, where
 * they cannot be).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OtlpJsonError, otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import { decodeTraceRequest } from '../../src/core/otlp/trace-request-decoder.js';
import { decodeSpanJson } from '../../src/core/otlp/span-details.js';

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
