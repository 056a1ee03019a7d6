/**
 * The OTLP codec against real reference encodings from OpenTelemetry JS (`otlp-transformer`'s
 * protobuf and JSON serializers over spans from `sdk-trace-base`), plus exact round trips of
 * what the SDK cannot produce (kvlist, bytes, int64 beyond 2^53, non-finite doubles).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';

import { ProtoReader, WireType } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import {
  attributeValue,
  decodeAnyValue,
  decodeKeyValues,
  decodeResource,
  decodeScope,
  decodeSpanJson,
  spanAttributes,
} from '../../src/core/otlp/span-details.js';
import { otlpJsonToProtobuf } from '../../src/core/otlp/otlp-json-request.js';
import {
  decodeExportRequestJson,
  encodeExportResponse,
  exportResponseJson,
  spansToOtlpJson,
  spansToProtobuf,
  stringifyOtlpJson,
} from '../../src/core/otlp/export.js';
import type { SpanRecord } from '../../src/core/model.js';
import {
  normaliseSdkJson,
  normaliseSdkSpan,
  recordsOf,
  resourceInfo,
  scopeInfo,
  sdkReference,
  spanBytesOf,
  spanRecord,
} from './otlp-codec-fixtures.js';

const ref = sdkReference();
const sdkJson = JSON.parse(ref.jsonText) as Record<string, unknown>;
const expected = normaliseSdkJson(sdkJson);

/** Every span object of an OTLP/JSON request, in order. */
function jsonSpans(doc: Record<string, unknown>): Record<string, unknown>[] {
  type R = Record<string, unknown>;
  return (doc.resourceSpans as R[]).flatMap((r) =>
    (r.scopeSpans as R[]).flatMap((ss) => ss.spans as R[]),
  );
}

describe('ProtoWriter', () => {
  it('encodes varints, int64, fixed and floating values as the reader reads them', () => {
    const w = new ProtoWriter(16);
    w.uint32(0).uint32(300).uint32(0xffffffff);
    w.uint64(2n ** 64n - 1n).uint64(2 ** 53);
    w.int64('-1').int64('9223372036854775807').int64(-5);
    w.fixed64('18446744073709551615').fixed64(123n).fixed32(0xdeadbeef).double(-0.5);
    w.string('héllo').string('x'.repeat(200)).bool(true);
    const r = new ProtoReader(w.finish());
    assert.equal(r.uint32(), 0);
    assert.equal(r.uint32(), 300);
    assert.equal(r.uint32(), 0xffffffff);
    assert.deepEqual(r.varint64(), [0xffffffff, 0xffffffff]);
    assert.equal(r.uint64Number(), 2 ** 53);
    assert.equal(r.int64String(), '-1');
    assert.equal(r.int64String(), '9223372036854775807');
    assert.equal(r.int64String(), '-5');
    assert.equal(r.fixed64String(), '18446744073709551615');
    assert.equal(r.fixed64String(), '123');
    assert.equal(r.fixed32(), 0xdeadbeef);
    assert.equal(r.double(), -0.5);
    assert.equal(r.string(), 'héllo');
    assert.equal(r.string(), 'x'.repeat(200));
    assert.equal(r.bool(), true);
    assert.equal(r.pos, r.end);
  });

  it('encodes -1 as the 10-byte two’s-complement varint', () => {
    const bytes = new ProtoWriter().int64('-1').finish();
    assert.equal(Buffer.from(bytes).toString('hex'), 'ffffffffffffffffff01');
  });

  it('back-patches nested message lengths of every varint size', () => {
    for (const size of [0, 1, 127, 128, 16383, 16384, 2_097_152]) {
      const w = new ProtoWriter(4);
      w.openMessage(1);
      w.openMessage(2).raw(new Uint8Array(size).fill(7)).closeMessage();
      w.stringField(3, 'after');
      w.closeMessage();
      const r = new ProtoReader(w.finish());
      assert.equal(r.tag(), (1 << 3) | WireType.LEN);
      r.end = r.lengthDelimitedEnd();
      assert.equal(r.tag(), (2 << 3) | WireType.LEN);
      const inner = r.bytesView();
      assert.equal(inner.length, size);
      assert.ok(inner.every((b) => b === 7));
      assert.equal(r.tag(), (3 << 3) | WireType.LEN);
      assert.equal(r.string(), 'after');
      assert.equal(r.pos, r.end);
    }
  });

  it('refuses out-of-range numbers and unbalanced messages', () => {
    assert.throws(() => new ProtoWriter().uint32(-1), RangeError);
    assert.throws(() => new ProtoWriter().uint64(2n ** 64n), RangeError);
    assert.throws(() => new ProtoWriter().int64('9223372036854775808'), /out of int64 range/);
    assert.throws(() => new ProtoWriter().fixed64('12a'), /not a decimal integer/);
    assert.throws(() => new ProtoWriter().closeMessage(), /without openMessage/);
    assert.throws(() => new ProtoWriter().openMessage(1).finish(), /left open/);
  });
});

describe('decoding the SDK protobuf encoding', () => {
  it('decodeSpanJson of each span equals the SDK JSON serializer output (normalised)', () => {
    const raws = spanBytesOf(ref.protobuf);
    const sdkSpans = jsonSpans(sdkJson);
    assert.equal(raws.length, 2);
    assert.equal(raws.length, sdkSpans.length);
    for (let i = 0; i < raws.length; i++) {
      assert.deepEqual(decodeSpanJson(raws[i]!), normaliseSdkSpan(sdkSpans[i]!));
    }
  });

  it('decodes the whole request, resource and scopes included', () => {
    assert.deepEqual(decodeExportRequestJson(ref.protobuf), expected);
  });

  it('decodes the values the fixture was built with', () => {
    const [child, root] = spanBytesOf(ref.protobuf).map((raw) => decodeSpanJson(raw));
    assert.ok(root && child);
    const attr = (k: string) => root.attributes.find((kv) => kv.key === k)?.value;
    assert.deepEqual(attr('big.int'), { intValue: '1152921504606846976' });
    assert.deepEqual(attr('negative.int'), { intValue: '-7' });
    assert.deepEqual(attr('unicode'), { stringValue: 'héllo ✓ 𝄞' });
    assert.equal(root.kind, 2);
    assert.deepEqual(root.status, { code: 1 });
    assert.equal(child.parentSpanId, root.spanId);
    assert.deepEqual(child.status, { code: 2, message: 'CUDA out of memory' });
    assert.equal(child.links[0]?.traceId, '0123456789abcdef0123456789abcdef');
    assert.equal(child.events[0]?.name, 'exception');
    assert.match(root.startTimeUnixNano, /^[0-9]{19}$/);
  });

  it('reads single attributes for analysis (attributeValue, spanAttributes)', () => {
    const root = recordsOf(ref.protobuf).find((s) => s.name === 'handle request');
    assert.ok(root);
    assert.equal(attributeValue(root, 'http.route'), '/v1/generate');
    assert.equal(attributeValue(root, 'http.ok'), true);
    assert.equal(attributeValue(root, 'batch.size'), 32);
    assert.equal(attributeValue(root, 'negative.int'), -7);
    assert.equal(attributeValue(root, 'big.int'), 2 ** 60);
    assert.equal(attributeValue(root, 'temperature'), 0.7);
    assert.equal(attributeValue(root, 'tags'), undefined, 'arrays are not scalars');
    assert.equal(attributeValue(root, 'missing'), undefined);
    assert.equal(attributeValue(root, 'http.rout'), undefined, 'a prefix is not a match');
    assert.deepEqual(spanAttributes(root), decodeSpanJson(root.raw).attributes);
  });
});

describe('OTLP/JSON ingest (otlpJsonToProtobuf)', () => {
  it('re-encodes the SDK JSON serializer output to the same request', () => {
    const bytes = otlpJsonToProtobuf(ref.jsonText);
    // The one difference from the SDK's protobuf: it writes the double 2^60 as the JSON number
    // 1152921504606847000 (the double's shortest form), and JSON ingest reads an integer
    // literal exactly as written.
    assert.match(ref.jsonText, /"intValue":1152921504606847000[,}]/);
    const asWritten = JSON.parse(
      JSON.stringify(expected).replace(
        '{"key":"big.int","value":{"intValue":"1152921504606846976"}}',
        '{"key":"big.int","value":{"intValue":"1152921504606847000"}}',
      ),
    ) as unknown;
    assert.notDeepEqual(asWritten, expected);
    assert.deepEqual(decodeExportRequestJson(bytes), asWritten);
    // Bytes in, too.
    const fromBytes = otlpJsonToProtobuf(JsonTraceSerializer.serializeRequest(ref.spans)!);
    assert.deepEqual(Buffer.from(fromBytes), Buffer.from(bytes));
  });

  it('round-trips kvlist, bytes, int64 extremes, non-finite doubles and enum names exactly', () => {
    const span = {
      traceId: '0102030405060708090A0B0C0D0E0F10',
      spanId: 'A1A2A3A4A5A6A7A8',
      parentSpanId: '',
      traceState: 'k=v',
      name: 'n',
      kind: 'SPAN_KIND_CLIENT',
      startTimeUnixNano: '18446744073709551615',
      endTimeUnixNano: 1700000000000000000,
      flags: 769,
      droppedAttributesCount: '3',
      attributes: [
        { key: 'max', value: { intValue: '9223372036854775807' } },
        { key: 'min', value: { intValue: '-9223372036854775808' } },
        { key: 'beyond53', value: { intValue: '9007199254740993' } },
        { key: 'num', value: { intValue: 12 } },
        { key: 'nan', value: { doubleValue: 'NaN' } },
        { key: 'inf', value: { doubleValue: 'Infinity' } },
        { key: 'ninf', value: { doubleValue: '-Infinity' } },
        { key: 'dstr', value: { doubleValue: '2.5e-3' } },
        { key: 'bytes', value: { bytesValue: 'AAEC/w==' } },
        { key: 'urlsafe', value: { bytesValue: '-_8' } },
        { key: 'empty', value: {} },
        { key: 'novalue' },
        {
          key: 'kv',
          value: {
            kvlistValue: {
              values: [
                { key: 'inner', value: { arrayValue: { values: [{ boolValue: false }, {}] } } },
                { key: 'deeper', value: { kvlistValue: { values: [] } } },
              ],
            },
          },
        },
      ],
      events: [{ timeUnixNano: '5', name: 'e', attributes: [], droppedAttributesCount: 1 }],
      droppedEventsCount: 2,
      links: [
        {
          traceId: 'ffffffffffffffffffffffffffffffff',
          spanId: '0000000000000001',
          traceState: 'a=b',
          flags: 256,
          droppedAttributesCount: 4,
        },
      ],
      droppedLinksCount: 5,
      status: { code: 'STATUS_CODE_ERROR', message: 'bad' },
      futureField: { anything: [1, 2, 3] },
    };
    const doc = {
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: 's' } }],
            droppedAttributesCount: 1,
          },
          scopeSpans: [
            {
              scope: {
                name: 'sc',
                version: 'v',
                attributes: [{ key: 'a', value: { intValue: '1' } }],
              },
              spans: [span],
              schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
            },
          ],
          schemaUrl: 'https://opentelemetry.io/schemas/1.31.0',
        },
      ],
    };
    const decoded = decodeExportRequestJson(otlpJsonToProtobuf(JSON.stringify(doc)));
    assert.deepEqual(decoded, {
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: 's' } }],
            droppedAttributesCount: 1,
          },
          scopeSpans: [
            {
              scope: {
                name: 'sc',
                version: 'v',
                attributes: [{ key: 'a', value: { intValue: '1' } }],
                droppedAttributesCount: 0,
              },
              spans: [
                {
                  traceId: '0102030405060708090a0b0c0d0e0f10',
                  spanId: 'a1a2a3a4a5a6a7a8',
                  traceState: 'k=v',
                  name: 'n',
                  kind: 3,
                  startTimeUnixNano: '18446744073709551615',
                  endTimeUnixNano: '1700000000000000000',
                  flags: 769,
                  droppedAttributesCount: 3,
                  attributes: [
                    { key: 'max', value: { intValue: '9223372036854775807' } },
                    { key: 'min', value: { intValue: '-9223372036854775808' } },
                    { key: 'beyond53', value: { intValue: '9007199254740993' } },
                    { key: 'num', value: { intValue: '12' } },
                    { key: 'nan', value: { doubleValue: NaN } },
                    { key: 'inf', value: { doubleValue: Infinity } },
                    { key: 'ninf', value: { doubleValue: -Infinity } },
                    { key: 'dstr', value: { doubleValue: 0.0025 } },
                    { key: 'bytes', value: { bytesValue: 'AAEC/w==' } },
                    { key: 'urlsafe', value: { bytesValue: '+/8=' } },
                    { key: 'empty', value: {} },
                    { key: 'novalue', value: {} },
                    {
                      key: 'kv',
                      value: {
                        kvlistValue: {
                          values: [
                            {
                              key: 'inner',
                              value: { arrayValue: { values: [{ boolValue: false }, {}] } },
                            },
                            { key: 'deeper', value: { kvlistValue: { values: [] } } },
                          ],
                        },
                      },
                    },
                  ],
                  events: [
                    { timeUnixNano: '5', name: 'e', attributes: [], droppedAttributesCount: 1 },
                  ],
                  droppedEventsCount: 2,
                  links: [
                    {
                      traceId: 'ffffffffffffffffffffffffffffffff',
                      spanId: '0000000000000001',
                      traceState: 'a=b',
                      attributes: [],
                      droppedAttributesCount: 4,
                      flags: 256,
                    },
                  ],
                  droppedLinksCount: 5,
                  status: { code: 2, message: 'bad' },
                },
              ],
              schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
            },
          ],
          schemaUrl: 'https://opentelemetry.io/schemas/1.31.0',
        },
      ],
    });
    // The int64 beyond 2^53 as analysis sees it: the nearest double.
    const [record] = recordsOf(otlpJsonToProtobuf(JSON.stringify(doc)));
    assert.ok(record);
    assert.equal(attributeValue(record, 'beyond53'), 9007199254740992);
    assert.equal(attributeValue(record, 'min'), -(2 ** 63));
    assert.ok(Number.isNaN(attributeValue(record, 'nan')));
    assert.equal(attributeValue(record, 'bytes'), undefined);
  });

  it('encodes ids of the wrong length or all zero as given (the decoder rejects those spans)', () => {
    const doc = {
      resourceSpans: [
        {
          scopeSpans: [{ spans: [{ traceId: '0102', spanId: '0000000000000000', name: 'short' }] }],
        },
      ],
    };
    const [span] = spanBytesOf(otlpJsonToProtobuf(JSON.stringify(doc))).map((raw) =>
      decodeSpanJson(raw),
    );
    assert.equal(span?.traceId, '0102');
    assert.equal(span?.spanId, '0000000000000000');
  });

  it('accepts a byte order mark, nulls for absent fields and an empty request', () => {
    assert.equal(otlpJsonToProtobuf('\ufeff{}').length, 0);
    assert.equal(otlpJsonToProtobuf('{"resourceSpans":null}').length, 0);
    const bytes = otlpJsonToProtobuf(
      '{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[' +
        '{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",' +
        '"parentSpanId":null,"attributes":null,"status":null}]}]}]}',
    );
    assert.deepEqual(decodeExportRequestJson(bytes).resourceSpans[0]?.scopeSpans[0]?.spans, [
      {
        traceId: '0102030405060708090a0b0c0d0e0f10',
        spanId: '0102030405060708',
        name: '',
        kind: 0,
        startTimeUnixNano: '0',
        endTimeUnixNano: '0',
        attributes: [],
        events: [],
        links: [],
        status: {},
      },
    ]);
  });
});

describe('export', () => {
  // Two resources, three scopes, spans interleaved: grouping must follow object identity and
  // first appearance, and keep span order within a group.
  function exampleRecords(): SpanRecord[] {
    const resource = (service: string) => {
      const w = new ProtoWriter();
      w.message(1, (w) => {
        w.stringField(1, 'service.name');
        w.message(2, (w) => w.stringField(1, service));
      });
      return resourceInfo(w.finish(), service === 'a' ? 'https://schema/a' : '');
    };
    const scope = (name: string, withAttr: boolean) => {
      const w = new ProtoWriter().stringField(1, name).stringField(2, '0.1');
      if (withAttr) {
        w.message(3, (w) => {
          w.stringField(1, 'scope.attr');
          w.message(2, (w) => w.tag(3, WireType.VARINT).int64('-9007199254740993'));
        });
      }
      return scopeInfo(w.finish(), name === 'x' ? 'https://schema/x' : '');
    };
    const span = (id: number, name: string) => {
      const w = new ProtoWriter();
      w.bytesField(1, Buffer.alloc(16, 0xab));
      w.bytesField(2, Buffer.from(id.toString(16).padStart(16, '0'), 'hex'));
      w.stringField(5, name);
      w.tag(6, WireType.VARINT).uint32(2);
      w.tag(7, WireType.I64).fixed64('1700000000123456789');
      w.tag(8, WireType.I64).fixed64('1700000000223456789');
      w.message(9, (w) => {
        w.stringField(1, 'blob');
        w.message(2, (w) => w.bytesField(7, Buffer.from([0, 255, 1])));
      });
      w.message(9, (w) => {
        w.stringField(1, 'huge');
        w.message(2, (w) => w.tag(3, WireType.VARINT).int64('-9223372036854775808'));
      });
      w.message(15, (w) => w.tag(3, WireType.VARINT).uint32(2));
      return w.finish();
    };
    const [ra, rb] = [resource('a'), resource('b')];
    const [sx, sy, sz] = [scope('x', true), scope('y', false), scope('z', false)];
    return [
      spanRecord(span(1, 'one'), ra, sx),
      spanRecord(span(2, 'two'), rb, sz),
      spanRecord(span(3, 'three'), ra, sy),
      spanRecord(span(4, 'four'), ra, sx),
      spanRecord(span(5, 'five'), rb, sz),
    ];
  }

  it('spansToOtlpJson groups by resource and scope identity, in order', () => {
    const out = spansToOtlpJson(exampleRecords());
    const names = out.resourceSpans.map((r) =>
      r.scopeSpans.map((ss) => [ss.scope.name, ss.spans.map((s) => s.name)]),
    );
    assert.deepEqual(names, [
      [
        ['x', ['one', 'four']],
        ['y', ['three']],
      ],
      [['z', ['two', 'five']]],
    ]);
    assert.equal(out.resourceSpans[0]?.schemaUrl, 'https://schema/a');
    assert.equal(out.resourceSpans[0]?.scopeSpans[0]?.schemaUrl, 'https://schema/x');
    assert.deepEqual(out.resourceSpans[0]?.scopeSpans[0]?.scope.attributes, [
      { key: 'scope.attr', value: { intValue: '-9007199254740993' } },
    ]);
    assert.equal(out.resourceSpans[0]?.scopeSpans[1]?.scope.attributes, undefined);
  });

  it('spansToOtlpJson -> otlpJsonToProtobuf -> decode is the identity', () => {
    const json = spansToOtlpJson(exampleRecords());
    const back = decodeExportRequestJson(otlpJsonToProtobuf(JSON.stringify(json)));
    assert.deepEqual(back, json);
  });

  it('stringifyOtlpJson keeps non-finite doubles, which JSON.stringify turns into null', () => {
    const w = new ProtoWriter()
      .bytesField(1, Buffer.alloc(16, 1))
      .bytesField(2, Buffer.alloc(8, 2));
    for (const [key, d] of [
      ['nan', NaN],
      ['inf', Infinity],
      ['ninf', -Infinity],
    ] as const) {
      w.message(9, (w) =>
        w.stringField(1, key).message(2, (w) => w.tag(4, WireType.I64).double(d)),
      );
    }
    const record = spanRecord(
      w.finish(),
      resourceInfo(new Uint8Array(0)),
      scopeInfo(new Uint8Array(0)),
    );
    const json = spansToOtlpJson([record]);
    const text = stringifyOtlpJson(json);
    assert.match(text, /"doubleValue":"NaN".*"doubleValue":"Infinity".*"doubleValue":"-Infinity"/);
    assert.deepEqual(decodeExportRequestJson(otlpJsonToProtobuf(text)), json);
    assert.match(JSON.stringify(json), /"doubleValue":null/);
  });

  it('spansToOtlpJson of the SDK spans re-imports to the SDK request', () => {
    const json = spansToOtlpJson(recordsOf(ref.protobuf));
    assert.deepEqual(json, expected);
    assert.deepEqual(decodeExportRequestJson(otlpJsonToProtobuf(JSON.stringify(json))), expected);
  });

  it('spansToProtobuf reassembles the SDK request byte for byte', () => {
    const bytes = spansToProtobuf(recordsOf(ref.protobuf));
    assert.deepEqual(Buffer.from(bytes), Buffer.from(ref.protobuf));
  });

  it('spansToProtobuf decodes to what spansToOtlpJson gives', () => {
    const records = exampleRecords();
    assert.deepEqual(decodeExportRequestJson(spansToProtobuf(records)), spansToOtlpJson(records));
    assert.equal(spansToProtobuf([]).length, 0);
  });

  it('spansToProtobuf handles spans larger than one length-prefix byte and absent scopes', () => {
    const resource = resourceInfo(new Uint8Array(0));
    const scope = scopeInfo(new Uint8Array(0));
    const w = new ProtoWriter();
    w.bytesField(1, Buffer.alloc(16, 1)).bytesField(2, Buffer.alloc(8, 2));
    w.stringField(5, 'n'.repeat(70_000));
    const record = spanRecord(w.finish(), resource, scope);
    const out = decodeExportRequestJson(spansToProtobuf([record, record]));
    assert.equal(out.resourceSpans[0]?.scopeSpans[0]?.spans.length, 2);
    assert.equal(out.resourceSpans[0]?.scopeSpans[0]?.spans[1]?.name.length, 70_000);
  });
});

describe('export responses', () => {
  it('is empty when everything was accepted', () => {
    assert.equal(encodeExportResponse().length, 0);
    assert.deepEqual(exportResponseJson(), {});
    assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(encodeExportResponse()), {});
  });

  it('carries partial success, as OpenTelemetry JS reads it', () => {
    const partial = { rejected: 3, errorMessage: 'span 2: invalid trace id' };
    const expected = { rejectedSpans: 3, errorMessage: partial.errorMessage };
    assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(encodeExportResponse(partial)), {
      partialSuccess: expected,
    });
    const json = new TextEncoder().encode(JSON.stringify(exportResponseJson(partial)));
    assert.deepEqual(JsonTraceSerializer.deserializeResponse(json), { partialSuccess: expected });
  });

  it('carries the logs and metrics partial success under their own names', () => {
    const partial = { rejected: 2, errorMessage: 'severity_number must be 0 to 24, got 99' };
    const encoded = encodeExportResponse(partial);
    assert.deepEqual(ProtobufLogsSerializer.deserializeResponse(encoded), {
      partialSuccess: { rejectedLogRecords: 2, errorMessage: partial.errorMessage },
    });
    assert.deepEqual(ProtobufMetricsSerializer.deserializeResponse(encoded), {
      partialSuccess: { rejectedDataPoints: 2, errorMessage: partial.errorMessage },
    });
    const logs = new TextEncoder().encode(JSON.stringify(exportResponseJson(partial, 'logs')));
    assert.deepEqual(JsonLogsSerializer.deserializeResponse(logs), {
      partialSuccess: { rejectedLogRecords: 2, errorMessage: partial.errorMessage },
    });
    const metrics = new TextEncoder().encode(
      JSON.stringify(exportResponseJson(partial, 'metrics')),
    );
    assert.deepEqual(JsonMetricsSerializer.deserializeResponse(metrics), {
      partialSuccess: { rejectedDataPoints: 2, errorMessage: partial.errorMessage },
    });
  });
});

describe('decodeKeyValues, decodeAnyValue, decodeResource, decodeScope', () => {
  it('decode stand-alone messages', () => {
    const kv = new ProtoWriter()
      .message(1, (w) => w.stringField(1, 'k').message(2, (w) => w.stringField(1, 'v')))
      .finish();
    assert.deepEqual(decodeKeyValues(kv), [{ key: 'k', value: { stringValue: 'v' } }]);
    assert.deepEqual(decodeAnyValue(new ProtoWriter().tag(4, WireType.I64).double(2).finish()), {
      doubleValue: 2,
    });
    // A oneof seen twice on the wire: the last member wins.
    const twice = new ProtoWriter().stringField(1, 'a').tag(2, WireType.VARINT).bool(true);
    assert.deepEqual(decodeAnyValue(twice.finish()), { boolValue: true });
    assert.deepEqual(decodeResource(new Uint8Array(0)), {
      attributes: [],
      droppedAttributesCount: 0,
    });
    assert.deepEqual(decodeScope(new ProtoWriter().stringField(1, 's').finish()), {
      name: 's',
      version: '',
      attributes: [],
      droppedAttributesCount: 0,
    });
  });
});
