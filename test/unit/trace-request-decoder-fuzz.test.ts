/**
 * Time-bounded fuzzing of the ingest decoder (`decodeTraceRequest`) and of the full span
 * decoder it hands `raw` bytes to (`decodeSpanJson`).
 *
 * The property: for every input, the decoder returns a batch or throws `ProtoDecodeError`;
 * never a TypeError, RangeError or stack overflow. Returned spans must satisfy the store's
 * invariants, and their `raw` bytes must decode or fail with `ProtoDecodeError`.
 *
 * Three generators share the time budget: (a) random bytes, (b) mutations of valid requests
 * (at the byte level and at the field-tree level, so that framing stays valid and the inner
 * checks are reached), (c) structured random requests whose decoding is known in advance.
 *
 * Budget: STAGELIGHT_FUZZ_MS (default 10000) in all. Seed: STAGELIGHT_FUZZ_SEED (default
 * random, printed); a failure prints the seed, the generator, the iteration and the input in
 * hex, and the same seed replays the same inputs.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  NO_LINKS,
  type AnyValueJson,
  type KeyValueJson,
  type SpanJson,
} from '../../src/core/model.js';
import { ProtoDecodeError, WireType } from '../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { decodeSpanJson } from '../../src/core/otlp/span-details.js';
import {
  DEFAULT_DECODE_LIMITS,
  DecodeCache,
  decodeTraceRequest,
  type DecodeLimits,
  type DecodedBatch,
} from '../../src/core/otlp/trace-request-decoder.js';
import { cat, fixed32, fixed64, len, tagBytes, varint } from './helpers/protobuf-fields.js';

const BUDGET_MS = Number(process.env['STAGELIGHT_FUZZ_MS'] ?? 10_000);
const SEED =
  process.env['STAGELIGHT_FUZZ_SEED'] !== undefined
    ? Number(process.env['STAGELIGHT_FUZZ_SEED']) >>> 0
    : (Math.random() * 0x1_0000_0000) >>> 0;

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG (sfc32, seeded through splitmix32).

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const mix = (): number => {
      seed = (seed + 0x9e3779b9) | 0;
      let z = seed;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** Non-zero random bytes of length n (n > 0). */
  id(n: number): Buffer {
    const b = this.bytes(n);
    if (n > 0 && b.every((x) => x === 0)) b[0] = 1;
    return b;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

const UINT64_MAX = (1n << 64n) - 1n;

function randomString(rng: Rng): string {
  const n = rng.pick([0, 1, 3, 8, 20, 50]);
  let s = '';
  for (let i = 0; i < n; i++) {
    const kind = rng.int(10);
    if (kind < 6) s += String.fromCharCode(rng.range(0x20, 0x7e));
    else if (kind < 8) s += String.fromCharCode(rng.range(0xa0, 0x7ff));
    else if (kind < 9) s += String.fromCodePoint(rng.range(0x1f300, 0x1f64f));
    else s += String.fromCharCode(rng.range(0, 0x1f));
  }
  return s;
}

/** A string as it comes back from a UTF-8 round trip. */
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** Random unknown fields (numbers beyond every OTLP message's own) of every wire type. */
function unknownFields(rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  const n = rng.chance(0.8) ? 0 : rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const field = rng.range(17, 3000);
    switch (rng.int(4)) {
      case 0:
        out.push(varint(field, rng.u64()));
        break;
      case 1:
        out.push(fixed64(field, rng.u64()));
        break;
      case 2:
        out.push(len(field, rng.bytes(rng.int(12))));
        break;
      default:
        out.push(fixed32(field, rng.u32()));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structured random requests, with the decoding expected for each span.

/** An encoded field plus what it does to the expected JSON of its message. */
interface Chunk<T> {
  bytes: Buffer;
  apply?: (target: T) => void;
}

/** Shuffles the chunks, then concatenates them and applies their effects in wire order. */
function assemble<T>(rng: Rng, chunks: Chunk<T>[], target: T, shuffle = true): Buffer {
  if (shuffle) rng.shuffle(chunks);
  for (const c of chunks) c.apply?.(target);
  return cat(...chunks.map((c) => c.bytes));
}

interface ValueGen {
  bytes: Buffer;
  json: AnyValueJson;
}

/** A random AnyValue message with at most `nest` array/kvlist levels. */
function anyValue(rng: Rng, nest: number): ValueGen {
  const kinds = nest > 0 ? 8 : 6;
  switch (rng.int(kinds)) {
    case 0: {
      const s = randomString(rng);
      return { bytes: len(1, s), json: { stringValue: utf8(s) } };
    }
    case 1: {
      const b = rng.chance(0.5);
      return { bytes: varint(2, b ? 1 : 0), json: { boolValue: b } };
    }
    case 2: {
      const v = rng.chance(0.5) ? BigInt(rng.range(-1000, 1000)) : BigInt.asIntN(64, rng.u64());
      const w = new ProtoWriter().tag(3, WireType.VARINT).int64(v);
      return { bytes: Buffer.from(w.finish()), json: { intValue: v.toString() } };
    }
    case 3: {
      const d = rng.pick([0, -0, 1.5, -1e300, NaN, Infinity, Math.PI, rng.u32() / 7]);
      const w = new ProtoWriter().tag(4, WireType.I64).double(d);
      return { bytes: Buffer.from(w.finish()), json: { doubleValue: d } };
    }
    case 4: {
      const b = rng.bytes(rng.int(10));
      return { bytes: len(7, b), json: { bytesValue: b.toString('base64') } };
    }
    case 5:
      return { bytes: Buffer.alloc(0), json: {} };
    case 6: {
      const items = Array.from({ length: rng.int(3) }, () => anyValue(rng, nest - 1));
      const content = cat(...items.map((v) => len(1, v.bytes)));
      return { bytes: len(5, content), json: { arrayValue: { values: items.map((v) => v.json) } } };
    }
    default: {
      const items = Array.from({ length: rng.int(3) }, () => keyValue(rng, nest - 1));
      const content = cat(...items.map((v) => len(1, v.bytes)));
      return {
        bytes: len(6, content),
        json: { kvlistValue: { values: items.map((v) => v.json) } },
      };
    }
  }
}

/** An AnyValue that is a chain of exactly `levels` arrays/kvlists around a string. */
function chainValue(rng: Rng, levels: number): ValueGen {
  let v: ValueGen = { bytes: len(1, 'x'), json: { stringValue: 'x' } };
  for (let i = 0; i < levels; i++) {
    if (rng.chance(0.5)) {
      v = { bytes: len(5, len(1, v.bytes)), json: { arrayValue: { values: [v.json] } } };
    } else {
      const kvBytes = cat(len(1, 'k'), len(2, v.bytes));
      v = {
        bytes: len(6, len(1, kvBytes)),
        json: { kvlistValue: { values: [{ key: 'k', value: v.json }] } },
      };
    }
  }
  return v;
}

interface KvGen {
  bytes: Buffer;
  json: KeyValueJson;
}

function keyValue(rng: Rng, nest: number, value?: ValueGen): KvGen {
  const json: KeyValueJson = { key: '', value: {} };
  const chunks: Chunk<KeyValueJson>[] = [];
  if (rng.chance(0.95)) {
    const key = randomString(rng);
    chunks.push({ bytes: len(1, key), apply: (kv) => (kv.key = utf8(key)) });
  }
  if (value !== undefined || rng.chance(0.95)) {
    const v = value ?? anyValue(rng, nest);
    chunks.push({ bytes: len(2, v.bytes), apply: (kv) => (kv.value = v.json) });
  }
  chunks.push(...unknownFields(rng).map((bytes) => ({ bytes })));
  return { bytes: assemble(rng, chunks, json), json };
}

/** A fuzz-run configuration: the limits, and how deep valid values may nest under them. */
interface Profile {
  limits: DecodeLimits;
  /** Array/kvlist levels that both decoders accept. */
  okNest: number;
}

const SMALL_LIMITS: DecodeLimits = {
  maxAttributesPerSpan: 4,
  maxEventsPerSpan: 3,
  maxLinksPerSpan: 3,
  maxValueDepth: 3,
};

// maxValueDepth counts the attribute's value as level 1, so values may hold
// maxValueDepth - 1 nested arrays/kvlists.
const PROFILES: readonly Profile[] = [
  { limits: DEFAULT_DECODE_LIMITS, okNest: DEFAULT_DECODE_LIMITS.maxValueDepth - 1 },
  { limits: SMALL_LIMITS, okNest: SMALL_LIMITS.maxValueDepth - 1 },
];

/** A random attribute value for a valid span: mostly shallow, sometimes at the depth limit. */
function attrValue(rng: Rng, profile: Profile): ValueGen {
  if (rng.chance(0.05)) return chainValue(rng, rng.range(0, profile.okNest));
  return anyValue(rng, Math.min(2, profile.okNest));
}

interface ExpectedSpan {
  /** Undefined for a span that must be accepted. */
  reason?: string | RegExp;
  json: SpanJson;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  startNs: bigint;
  endNs: bigint;
  raw: Buffer;
  serviceName?: string;
  scopeName?: string;
  scopeVersion?: string;
}

const DEFECTS = [
  'traceIdLength',
  'traceIdZero',
  'spanIdLength',
  'spanIdZero',
  'parentLength',
  'noTraceId',
  'noSpanId',
  'noStart',
  'noEnd',
  'endBeforeStart',
  'kind',
  'status',
  'attributes',
  'events',
  'links',
  'eventAttributes',
  'linkAttributes',
  'depth',
  'wrongWireType',
  'truncatedInside',
] as const;
type Defect = (typeof DEFECTS)[number];

/** Defects that take thousands of fields at the default limits: small limits only. */
const COUNT_DEFECTS: readonly Defect[] = [
  'attributes',
  'events',
  'links',
  'eventAttributes',
  'linkAttributes',
];

function randomTime(rng: Rng): bigint {
  switch (rng.int(5)) {
    case 0:
      return BigInt(rng.range(1, 1_000_000_000)); // 1970
    case 1:
      return 1_000_000_000_000_000_000n + BigInt(rng.u32()) * 1000n; // 2001
    case 2:
      return 1_700_000_000_000_000_000n + BigInt(rng.u32()) * 1_000_000n; // now-ish
    case 3:
      return 4_102_444_800_000_000_000n + BigInt(rng.u32()); // 2100
    default:
      return UINT64_MAX - BigInt(rng.u32()) - 1n; // the far end of fixed64
  }
}

function span(rng: Rng, profile: Profile, defect: Defect | undefined): ExpectedSpan {
  const { limits } = profile;
  const json: SpanJson = {
    traceId: '',
    spanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: [],
    events: [],
    links: [],
    status: {},
  };
  const chunks: Chunk<SpanJson>[] = [];
  let reason: string | RegExp | undefined;

  let traceId = rng.id(16);
  if (defect === 'traceIdLength') {
    traceId = rng.id(rng.pick([0, 1, 8, 15, 17, 32]));
    reason = `trace_id must be 16 bytes, got ${traceId.length}`;
  } else if (defect === 'traceIdZero') {
    traceId = Buffer.alloc(16);
    reason = 'trace_id is all zero';
  }
  if (defect === 'noTraceId') reason = 'trace_id missing';
  else chunks.push({ bytes: len(1, traceId), apply: (s) => (s.traceId = traceId.toString('hex')) });

  let spanId = rng.id(8);
  if (defect === 'spanIdLength') {
    spanId = rng.id(rng.pick([0, 1, 7, 9, 16]));
    reason = `span_id must be 8 bytes, got ${spanId.length}`;
  } else if (defect === 'spanIdZero') {
    spanId = Buffer.alloc(8);
    reason = 'span_id is all zero';
  }
  if (defect === 'noSpanId') reason ??= 'span_id missing';
  else chunks.push({ bytes: len(2, spanId), apply: (s) => (s.spanId = spanId.toString('hex')) });

  let parentSpanId = '';
  if (defect === 'parentLength') {
    const p = rng.id(rng.pick([1, 4, 7, 9, 16]));
    chunks.push({ bytes: len(4, p) });
    reason = `parent_span_id must be 8 bytes, got ${p.length}`;
  } else if (rng.chance(0.6)) {
    const p = rng.pick([rng.id(8), rng.id(8), Buffer.alloc(0), Buffer.alloc(8)]);
    if (p.length === 8 && p.some((x) => x !== 0)) parentSpanId = p.toString('hex');
    chunks.push({
      bytes: len(4, p),
      apply: (s) => {
        if (p.length > 0) s.parentSpanId = p.toString('hex');
      },
    });
  }

  if (rng.chance(0.9)) {
    const name = randomString(rng);
    chunks.push({ bytes: len(5, name), apply: (s) => (s.name = utf8(name)) });
  }
  if (defect === 'kind') {
    const kind = rng.pick([6, 7, 100, 0x7fff_ffff, 0xffff_ffff]);
    chunks.push({ bytes: varint(6, kind) });
    reason = `kind ${kind} is not a SpanKind`;
  } else if (rng.chance(0.8)) {
    const kind = rng.int(6);
    chunks.push({ bytes: varint(6, kind), apply: (s) => (s.kind = kind) });
  }

  let startNs = randomTime(rng);
  let endNs = startNs + BigInt(rng.pick([0, 1, 1000, rng.u32(), rng.u32() * 1000]));
  if (endNs > UINT64_MAX) endNs = UINT64_MAX;
  if (defect === 'endBeforeStart') {
    endNs = startNs / 2n;
    if (endNs === 0n) [startNs, endNs] = [3n, 1n];
    reason ??= 'end_time_unix_nano is before start_time_unix_nano';
  }
  if (defect === 'noStart') reason ??= 'start_time_unix_nano missing';
  else
    chunks.push({
      bytes: fixed64(7, startNs),
      apply: (s) => (s.startTimeUnixNano = String(startNs)),
    });
  if (defect === 'noEnd') reason ??= 'end_time_unix_nano missing';
  else chunks.push({ bytes: fixed64(8, endNs), apply: (s) => (s.endTimeUnixNano = String(endNs)) });

  const maxAttrs = Math.min(limits.maxAttributesPerSpan, 6);
  // The depth defect adds one attribute of its own: keep the count within the limit.
  let nAttrs = rng.int((defect === 'depth' ? maxAttrs - 1 : maxAttrs) + 1);
  if (defect === 'attributes') {
    nAttrs = limits.maxAttributesPerSpan + rng.range(1, 2);
    reason = `more than ${limits.maxAttributesPerSpan} attributes`;
  }
  for (let i = 0; i < nAttrs; i++) {
    const kv = keyValue(rng, 0, attrValue(rng, profile));
    chunks.push({ bytes: len(9, kv.bytes), apply: (s) => s.attributes.push(kv.json) });
  }
  if (defect === 'depth') {
    const kv = keyValue(rng, 0, chainValue(rng, limits.maxValueDepth + rng.int(2)));
    chunks.push({ bytes: len(9, kv.bytes) });
    reason = `attribute value nested deeper than ${limits.maxValueDepth} levels`;
  }

  let nEvents = rng.int(Math.min(limits.maxEventsPerSpan, 3) + 1);
  if (defect === 'events') {
    nEvents = limits.maxEventsPerSpan + 1;
    reason = `more than ${limits.maxEventsPerSpan} events`;
  }
  for (let i = 0; i < nEvents; i++) {
    const tooMany = defect === 'eventAttributes' && i === 0;
    const ev = event(rng, profile, tooMany ? limits.maxAttributesPerSpan + 1 : undefined);
    chunks.push({ bytes: len(11, ev.bytes), apply: (s) => s.events.push(ev.json) });
  }
  if (defect === 'eventAttributes') {
    if (nEvents === 0) {
      const ev = event(rng, profile, limits.maxAttributesPerSpan + 1);
      chunks.push({ bytes: len(11, ev.bytes) });
    }
    reason = `an event has more than ${limits.maxAttributesPerSpan} attributes`;
  }

  let nLinks = rng.int(Math.min(limits.maxLinksPerSpan, 3) + 1);
  if (defect === 'links') {
    nLinks = limits.maxLinksPerSpan + 1;
    reason = `more than ${limits.maxLinksPerSpan} links`;
  }
  for (let i = 0; i < nLinks; i++) {
    const tooMany = defect === 'linkAttributes' && i === 0;
    const ln = link(
      rng,
      profile,
      tooMany ? limits.maxAttributesPerSpan + 1 : undefined,
      defect === 'links',
    );
    chunks.push({ bytes: len(13, ln.bytes), apply: (s) => s.links.push(ln.json) });
  }
  if (defect === 'linkAttributes') {
    if (nLinks === 0) {
      const ln = link(rng, profile, limits.maxAttributesPerSpan + 1);
      chunks.push({ bytes: len(13, ln.bytes) });
    }
    reason = `a link has more than ${limits.maxAttributesPerSpan} attributes`;
  }

  if (defect === 'status') {
    const code = rng.pick([3, 4, 1000, 0xffff_ffff]);
    chunks.push({ bytes: len(15, varint(3, code)) });
    reason = `status code ${code} is not a StatusCode`;
  } else if (rng.chance(0.5)) {
    const code = rng.int(3);
    const message = rng.chance(0.5) ? randomString(rng) : '';
    const parts: Chunk<SpanJson['status']>[] = [];
    if (code !== 0 || rng.chance(0.3)) parts.push({ bytes: varint(3, code) });
    if (message !== '' || rng.chance(0.3)) parts.push({ bytes: len(2, message) });
    // The deprecated code (field 1, an enum) is skipped by both decoders.
    if (rng.chance(0.2)) parts.push({ bytes: varint(1, rng.int(3)) });
    const content = assemble(rng, parts, {});
    chunks.push({
      bytes: len(15, content),
      apply: (s) => {
        if (code !== 0) s.status.code = code;
        if (message !== '') s.status.message = utf8(message);
      },
    });
  }

  const optional: [number, keyof SpanJson][] = [
    [10, 'droppedAttributesCount'],
    [12, 'droppedEventsCount'],
    [14, 'droppedLinksCount'],
  ];
  for (const [field, key] of optional) {
    if (rng.chance(0.2)) {
      const n = rng.pick([0, 1, 0xffff_ffff]);
      chunks.push({
        bytes: varint(field, n),
        apply: (s) => {
          if (n !== 0) (s as unknown as Record<string, number>)[key] = n;
        },
      });
    }
  }
  if (rng.chance(0.2)) {
    const flags = rng.pick([0, 1, 0x101, 0xffff_ffff]);
    chunks.push({ bytes: fixed32(16, flags), apply: (s) => flags !== 0 && (s.flags = flags) });
  }
  if (rng.chance(0.2)) {
    const ts = randomString(rng);
    chunks.push({ bytes: len(3, ts), apply: (s) => ts !== '' && (s.traceState = utf8(ts)) });
  }
  chunks.push(...unknownFields(rng).map((bytes) => ({ bytes })));

  if (defect === 'wrongWireType') {
    // A known field with a wire type other than its own (never a group: those fail as such).
    const field = rng.range(1, 16);
    const own = SPAN_WIRE_TYPES[field]!;
    const wt = rng.pick(
      [WireType.VARINT, WireType.I64, WireType.LEN, WireType.I32].filter((w) => w !== own),
    );
    const payload =
      wt === WireType.VARINT
        ? varint(field, 1)
        : wt === WireType.I64
          ? fixed64(field, 1n)
          : wt === WireType.I32
            ? fixed32(field, 1)
            : len(field, Buffer.from([1, 2]));
    chunks.push({ bytes: payload });
    reason = new RegExp(
      `^malformed span: Span field ${field} has wire type ${wt} \\(at byte \\d+\\)$`,
    );
  }

  let raw = assemble(rng, chunks, json);
  if (defect === 'truncatedInside') {
    // A trace_state whose length claims more than the span holds, as the last field.
    raw = cat(raw, tagBytes(3, WireType.LEN), Buffer.from([0x7f, 0x0a, 0x01]));
    reason = /^malformed span: length 127 runs past the end of the message \(at byte \d+\)$/;
  }
  return {
    reason,
    json,
    traceId: traceId.toString('hex'),
    spanId: spanId.toString('hex'),
    parentSpanId,
    startNs,
    endNs,
    raw,
  };
}

const SPAN_WIRE_TYPES = [
  -1,
  WireType.LEN,
  WireType.LEN,
  WireType.LEN,
  WireType.LEN,
  WireType.LEN,
  WireType.VARINT,
  WireType.I64,
  WireType.I64,
  WireType.LEN,
  WireType.VARINT,
  WireType.LEN,
  WireType.VARINT,
  WireType.LEN,
  WireType.VARINT,
  WireType.LEN,
  WireType.I32,
];

function attributesChunks<T extends { attributes: KeyValueJson[] }>(
  rng: Rng,
  profile: Profile,
  field: number,
  n: number,
): Chunk<T>[] {
  return Array.from({ length: n }, () => {
    const kv = keyValue(rng, 0, attrValue(rng, profile));
    return { bytes: len(field, kv.bytes), apply: (t: T) => void t.attributes.push(kv.json) };
  });
}

function event(
  rng: Rng,
  profile: Profile,
  nAttrs?: number,
): { bytes: Buffer; json: SpanJson['events'][number] } {
  const json: SpanJson['events'][number] = { timeUnixNano: '0', name: '', attributes: [] };
  const chunks: Chunk<typeof json>[] = [];
  if (rng.chance(0.9)) {
    const t = randomTime(rng);
    chunks.push({ bytes: fixed64(1, t), apply: (e) => (e.timeUnixNano = String(t)) });
  }
  if (rng.chance(0.9)) {
    const name = randomString(rng);
    chunks.push({ bytes: len(2, name), apply: (e) => (e.name = utf8(name)) });
  }
  const n = nAttrs ?? rng.int(Math.min(profile.limits.maxAttributesPerSpan, 2) + 1);
  chunks.push(...attributesChunks<typeof json>(rng, profile, 3, n));
  if (rng.chance(0.2)) {
    const d = rng.range(0, 5);
    chunks.push({ bytes: varint(4, d), apply: (e) => d !== 0 && (e.droppedAttributesCount = d) });
  }
  chunks.push(...unknownFields(rng).map((bytes) => ({ bytes })));
  return { bytes: assemble(rng, chunks, json), json };
}

function link(
  rng: Rng,
  profile: Profile,
  nAttrs?: number,
  validIds = false,
): { bytes: Buffer; json: SpanJson['links'][number] } {
  const json: SpanJson['links'][number] = { traceId: '', spanId: '', attributes: [] };
  const chunks: Chunk<typeof json>[] = [];
  if (validIds || rng.chance(0.95)) {
    const id = validIds || rng.chance(0.9) ? rng.id(16) : rng.bytes(rng.int(20));
    chunks.push({ bytes: len(1, id), apply: (l) => (l.traceId = id.toString('hex')) });
  }
  if (validIds || rng.chance(0.95)) {
    const id = validIds || rng.chance(0.9) ? rng.id(8) : rng.bytes(rng.int(12));
    chunks.push({ bytes: len(2, id), apply: (l) => (l.spanId = id.toString('hex')) });
  }
  if (rng.chance(0.2)) {
    const ts = randomString(rng);
    chunks.push({ bytes: len(3, ts), apply: (l) => ts !== '' && (l.traceState = utf8(ts)) });
  }
  const n = nAttrs ?? rng.int(Math.min(profile.limits.maxAttributesPerSpan, 2) + 1);
  chunks.push(...attributesChunks<typeof json>(rng, profile, 4, n));
  if (rng.chance(0.2)) {
    const d = rng.range(0, 5);
    chunks.push({ bytes: varint(5, d), apply: (l) => d !== 0 && (l.droppedAttributesCount = d) });
  }
  if (rng.chance(0.2)) {
    const f = rng.pick([0, 1, 0x301]);
    chunks.push({ bytes: fixed32(6, f), apply: (l) => f !== 0 && (l.flags = f) });
  }
  chunks.push(...unknownFields(rng).map((bytes) => ({ bytes })));
  return { bytes: assemble(rng, chunks, json), json };
}

interface ResourceGen {
  bytes: Buffer;
  serviceName: string;
  attributes: KeyValueJson[];
}

function resource(rng: Rng): ResourceGen {
  const attrs: KeyValueJson[] = [];
  const chunks: Chunk<KeyValueJson[]>[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    const kv = keyValue(rng, 0, anyValue(rng, 2));
    chunks.push({ bytes: len(1, kv.bytes), apply: (a) => a.push(kv.json) });
  }
  if (rng.chance(0.7)) {
    const name = rng.chance(0.9) ? `svc-${rng.int(5)}` : '';
    const kvBytes = cat(len(1, 'service.name'), len(2, len(1, name)));
    chunks.push({
      bytes: len(1, kvBytes),
      apply: (a) => a.push({ key: 'service.name', value: { stringValue: name } }),
    });
  }
  const bytes = assemble(rng, chunks, attrs);
  // The last non-empty string-valued service.name wins.
  let serviceName = 'unknown_service';
  for (const a of attrs) {
    if (a.key === 'service.name' && 'stringValue' in a.value && a.value.stringValue !== '') {
      serviceName = a.value.stringValue;
    }
  }
  return { bytes, serviceName, attributes: attrs };
}

interface RequestGen {
  bytes: Buffer;
  spans: ExpectedSpan[];
  profile: Profile;
}

/** A random well-formed request; `defects` is the chance that a span carries one defect. */
function randomRequest(rng: Rng, defects: number, small = false): RequestGen {
  const profile = rng.pick(PROFILES);
  const top: Chunk<ExpectedSpan[]>[] = [];
  const maxSpans = small ? 2 : 4;
  for (let r = rng.int(2) + (rng.chance(0.9) ? 1 : 0); r > 0; r--) {
    const res = rng.chance(0.85) ? resource(rng) : undefined;
    const rsChunks: Chunk<ExpectedSpan[]>[] = [];
    if (res) rsChunks.push({ bytes: len(1, res.bytes) });
    if (rng.chance(0.3)) rsChunks.push({ bytes: len(3, randomString(rng)) });
    for (let s = rng.int(2) + 1; s > 0; s--) {
      const scopeName = rng.chance(0.8) ? `scope-${rng.int(3)}` : '';
      const scopeVersion = rng.chance(0.5) ? `${rng.int(9)}.${rng.int(9)}` : '';
      const ssChunks: Chunk<ExpectedSpan[]>[] = [];
      if (scopeName !== '' || scopeVersion !== '' || rng.chance(0.3)) {
        const scope = assemble(
          rng,
          [{ bytes: len(1, scopeName) }, { bytes: len(2, scopeVersion) }],
          null,
        );
        ssChunks.push({ bytes: len(1, scope) });
      }
      if (rng.chance(0.3)) ssChunks.push({ bytes: len(3, randomString(rng)) });
      for (let n = rng.int(maxSpans); n > 0; n--) {
        let defect = rng.chance(defects) ? rng.pick(DEFECTS) : undefined;
        if (defect && profile.limits.maxAttributesPerSpan > 100 && COUNT_DEFECTS.includes(defect)) {
          defect = 'depth';
        }
        const sp = span(rng, profile, defect);
        sp.serviceName = res?.serviceName ?? 'unknown_service';
        sp.scopeName = scopeName;
        sp.scopeVersion = scopeVersion;
        ssChunks.push({ bytes: len(2, sp.raw), apply: (out) => out.push(sp) });
      }
      ssChunks.push(...unknownFields(rng).map((bytes) => ({ bytes })));
      // The spans' order on the wire is the order of the expected list.
      const spans: ExpectedSpan[] = [];
      const content = assemble(rng, ssChunks, spans);
      rsChunks.push({ bytes: len(2, content), apply: (out) => out.push(...spans) });
    }
    rsChunks.push(...unknownFields(rng).map((bytes) => ({ bytes })));
    const spans: ExpectedSpan[] = [];
    const content = assemble(rng, rsChunks, spans);
    top.push({ bytes: len(1, content), apply: (out) => out.push(...spans) });
  }
  top.push(...unknownFields(rng).map((bytes) => ({ bytes })));
  const spans: ExpectedSpan[] = [];
  return { bytes: assemble(rng, top, spans), spans, profile };
}

// ---------------------------------------------------------------------------------------------
// Mutations. Byte-level ones break framing; tree-level ones (on a lenient parse of the
// request) keep every length right, so the decoder's inner checks see the damage.

interface FieldNode {
  field: number;
  wireType: number;
  /** Leaf value bytes (varint bytes, fixed bytes, or LEN content), when not a message. */
  value?: Buffer;
  children?: FieldNode[];
  /** Extra continuation bytes in the tag / length varints (non-canonical encodings). */
  tagPad?: number;
  lenPad?: number;
  /** Added to the true length when the length prefix is written. */
  lenDelta?: number;
}

/** Parses fields leniently: a LEN field whose content parses as fields becomes a message. */
function parseFields(buf: Buffer, depth = 0): FieldNode[] | undefined {
  const nodes: FieldNode[] = [];
  let pos = 0;
  // Numbers, not bigints: exact up to 2^53, which is all a tag or a length can use here.
  const readVarint = (): number | undefined => {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) return undefined;
      const b = buf[pos++]!;
      v += (b & 0x7f) * 2 ** (7 * i);
      // Only canonical varints, so that re-encoding gives back the same bytes (random bytes
      // may parse as fields with padded varints).
      if (b < 0x80) return i > 0 && b === 0 ? undefined : v;
    }
    return undefined;
  };
  while (pos < buf.length) {
    const tag = readVarint();
    if (tag === undefined || tag < 8 || tag >= 2 ** 32) return undefined;
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    const start = pos;
    if (wireType === WireType.VARINT) {
      if (readVarint() === undefined) return undefined;
      nodes.push({ field, wireType, value: buf.subarray(start, pos) });
    } else if (wireType === WireType.I64 || wireType === WireType.I32) {
      pos += wireType === WireType.I64 ? 8 : 4;
      if (pos > buf.length) return undefined;
      nodes.push({ field, wireType, value: buf.subarray(start, pos) });
    } else if (wireType === WireType.LEN) {
      const n = readVarint();
      if (n === undefined || pos + n > buf.length) return undefined;
      const content = buf.subarray(pos, pos + n);
      pos += n;
      const children =
        depth < 12 && content.length > 0 ? parseFields(content, depth + 1) : undefined;
      nodes.push(children ? { field, wireType, children } : { field, wireType, value: content });
    } else return undefined;
  }
  return nodes;
}

/** A varint, with `pad` extra continuation bytes; numbers must be safe integers. */
function encodeVarint(v: bigint | number, pad = 0): Buffer {
  const out: number[] = [];
  if (typeof v === 'number') {
    do {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    } while (v > 0);
  } else {
    do {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    } while (v > 0n);
  }
  for (let i = 0; i < pad; i++) out.push(0x80);
  out[out.length - 1]! &= 0x7f;
  return Buffer.from(out);
}

function serializeFields(nodes: FieldNode[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of nodes) {
    parts.push(encodeVarint(n.field * 8 + n.wireType, n.tagPad));
    if (n.wireType === WireType.LEN) {
      const content = n.children ? serializeFields(n.children) : (n.value ?? Buffer.alloc(0));
      const length = Math.max(0, content.length + (n.lenDelta ?? 0));
      parts.push(encodeVarint(length, n.lenPad), content);
    } else {
      parts.push(n.value ?? Buffer.alloc(0));
    }
  }
  return cat(...parts);
}

/** Every (node, sibling list) pair of a tree. */
function allNodes(
  nodes: FieldNode[],
  out: [FieldNode, FieldNode[]][] = [],
): [FieldNode, FieldNode[]][] {
  for (const n of nodes) {
    out.push([n, nodes]);
    if (n.children) allNodes(n.children, out);
  }
  return out;
}

function cloneNode(n: FieldNode): FieldNode {
  return { ...n, children: n.children?.map(cloneNode) };
}

function randomLeafValue(rng: Rng, wireType: number): Buffer {
  switch (wireType) {
    case WireType.VARINT:
      return encodeVarint(rng.pick([0n, 1n, 2n, 5n, 6n, 0xffff_ffffn, rng.u64(), UINT64_MAX]));
    case WireType.I64:
      return rng.chance(0.5) ? Buffer.alloc(8) : rng.bytes(8);
    case WireType.I32:
      return rng.bytes(4);
    default:
      return rng.bytes(rng.pick([0, 1, 7, 8, 9, 15, 16, 17, 40]));
  }
}

function mutateTree(rng: Rng, tree: FieldNode[], donor: FieldNode[] | undefined): void {
  const nodes = allNodes(tree);
  if (nodes.length === 0) return;
  const [node, siblings] = rng.pick(nodes);
  switch (rng.int(10)) {
    case 0: // duplicate a field
      siblings.splice(rng.int(siblings.length + 1), 0, cloneNode(node));
      break;
    case 1: // delete a field
      siblings.splice(siblings.indexOf(node), 1);
      break;
    case 2: // reorder siblings
      rng.shuffle(siblings);
      break;
    case 3: // new value of the same wire type
      node.children = undefined;
      node.value = randomLeafValue(rng, node.wireType);
      break;
    case 4: {
      // another wire type (and a value that fits it), or another field number
      if (rng.chance(0.5)) {
        node.wireType = rng.pick([0, 1, 2, 5, 3, 4, 6, 7]);
        node.children = undefined;
        node.value = randomLeafValue(rng, node.wireType);
      } else node.field = rng.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 17, 0x1fffffff]);
      break;
    }
    case 5: // a wrong length prefix
      node.lenDelta = rng.pick([-2, -1, 1, 2, 100, 0x7fff_ffff]);
      break;
    case 6: // non-canonical (possibly over-long) varints
      if (rng.chance(0.5)) node.tagPad = rng.range(1, 10);
      else node.lenPad = rng.range(1, 10);
      break;
    case 7: // graft a field from another request
      if (donor && donor.length > 0) {
        const [d] = rng.pick(allNodes(donor));
        siblings.splice(rng.int(siblings.length + 1), 0, cloneNode(d));
      }
      break;
    case 8: // nest a field inside itself, deepening the tree
      if (node.wireType === WireType.LEN) {
        node.children = [cloneNode(node)];
        node.value = undefined;
      }
      break;
    default: // a varint with the sign-extended or huge value
      if (node.wireType === WireType.VARINT)
        node.value = encodeVarint(rng.pick([UINT64_MAX, 1n << 32n, (1n << 32n) + 1n]));
  }
}

function mutateBytes(rng: Rng, input: Buffer, donor: Buffer): Buffer {
  let b: Buffer = Buffer.from(input);
  switch (rng.int(7)) {
    case 0: {
      for (let i = rng.range(1, 4); i > 0 && b.length > 0; i--) {
        const at = rng.int(b.length);
        b[at] = b[at]! ^ (1 << rng.int(8));
      }
      break;
    }
    case 1:
      if (b.length > 0) b[rng.int(b.length)] = rng.pick([0x00, 0x7f, 0x80, 0xff, rng.int(256)]);
      break;
    case 2: {
      const at = rng.int(b.length + 1);
      b = cat(b.subarray(0, at), rng.bytes(rng.range(1, 4)), b.subarray(at));
      break;
    }
    case 3: {
      const at = rng.int(b.length + 1);
      b = cat(b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 8))));
      break;
    }
    case 4:
      b = b.subarray(0, rng.int(b.length + 1));
      break;
    case 5: // splice: a prefix of one request, a suffix of another
      b = cat(b.subarray(0, rng.int(b.length + 1)), donor.subarray(rng.int(donor.length + 1)));
      break;
    default: {
      // copy a byte range to another place (repeats a field or part of one)
      const from = rng.int(b.length + 1);
      const to = Math.min(b.length, from + rng.range(1, 32));
      const at = rng.int(b.length + 1);
      b = cat(b.subarray(0, at), b.subarray(from, to), b.subarray(at));
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// The oracle.

interface Stats {
  executions: number;
  decoded: number;
  protoErrors: number;
  spans: number;
  rejected: number;
  /** Accepted spans whose raw decodeSpanJson refused (a ProtoDecodeError): a known gap. */
  detailsRefused: number;
  /** Resources whose attributes could not be decoded after ingest accepted them. */
  resourceRefused: number;
}

const newStats = (): Stats => ({
  executions: 0,
  decoded: 0,
  protoErrors: 0,
  spans: 0,
  rejected: 0,
  detailsRefused: 0,
  resourceRefused: 0,
});

class FuzzFailure extends Error {}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/**
 * Decodes `bytes` and checks the properties that hold for every input. Returns the batch, or
 * undefined when the decoder threw ProtoDecodeError.
 */
function check(
  bytes: Uint8Array,
  limits: DecodeLimits,
  cache: DecodeCache,
  stats: Stats,
  where: string,
): DecodedBatch | undefined {
  const fail = (what: string, e?: unknown): never => {
    const detail = e instanceof Error ? (e.stack ?? String(e)) : e === undefined ? '' : String(e);
    throw new FuzzFailure(
      `${what}\n  seed ${SEED} (STAGELIGHT_FUZZ_SEED=${SEED}), ${where}\n  input (${bytes.length} bytes): ${Buffer.from(bytes).toString('hex')}\n  ${detail}`,
    );
  };
  stats.executions++;
  let out: DecodedBatch;
  try {
    out = decodeTraceRequest(bytes, cache, limits);
  } catch (e) {
    if (e instanceof ProtoDecodeError) {
      stats.protoErrors++;
      if (!/\(at byte \d+\)$/.test(e.message)) fail('ProtoDecodeError without an offset', e);
      return undefined;
    }
    return fail('decodeTraceRequest threw something other than ProtoDecodeError', e);
  }
  stats.decoded++;
  stats.spans += out.spans.length;
  stats.rejected += out.rejected;
  if (!Number.isInteger(out.rejected) || out.rejected < 0) fail(`rejected = ${out.rejected}`);
  if ((out.rejected === 0) !== (out.rejectReasons.length === 0)) fail('rejectReasons vs rejected');
  if (
    out.rejectReasons.length > 5 ||
    new Set(out.rejectReasons).size !== out.rejectReasons.length
  ) {
    fail(`rejectReasons not five distinct: ${JSON.stringify(out.rejectReasons)}`);
  }
  for (const s of out.spans) {
    if (!HEX32.test(s.traceId) || /^0+$/.test(s.traceId)) fail(`bad traceId ${s.traceId}`);
    if (!HEX16.test(s.spanId) || /^0+$/.test(s.spanId)) fail(`bad spanId ${s.spanId}`);
    if (s.parentSpanId !== '' && (!HEX16.test(s.parentSpanId) || /^0+$/.test(s.parentSpanId))) {
      fail(`bad parentSpanId ${s.parentSpanId}`);
    }
    if (!(Number.isFinite(s.startMs) && s.startMs > 0 && s.endMs >= s.startMs)) {
      fail(`bad times ${s.startMs}..${s.endMs}`);
    }
    if (!Number.isInteger(s.kind) || s.kind < 0 || s.kind > 5) fail(`bad kind ${s.kind}`);
    if (![0, 1, 2].includes(s.statusCode)) fail(`bad status ${s.statusCode}`);
    for (const l of s.links) {
      if (!HEX32.test(l.traceId) || !HEX16.test(l.spanId)) fail(`bad link ${JSON.stringify(l)}`);
    }
    if (!(s.raw instanceof Uint8Array)) fail('raw is not bytes');
    if (typeof s.resource.serviceName !== 'string' || s.resource.serviceName === '') {
      fail('empty service name');
    }
    let json: SpanJson | undefined;
    try {
      json = decodeSpanJson(s.raw);
    } catch (e) {
      if (!(e instanceof ProtoDecodeError))
        fail('decodeSpanJson threw something other than ProtoDecodeError', e);
      stats.detailsRefused++;
    }
    if (json) {
      // The full decoding agrees with the hot path on what both read.
      if (json.traceId !== s.traceId || json.spanId !== s.spanId)
        fail('ids differ from decodeSpanJson');
      if (json.name !== s.name || json.kind !== s.kind)
        fail('name/kind differ from decodeSpanJson');
      if ((json.status.code ?? 0) !== s.statusCode) fail('status differs from decodeSpanJson');
      if (Number(BigInt(json.startTimeUnixNano)) / 1e6 !== s.startMs) fail('start differs');
      if (Number(BigInt(json.endTimeUnixNano)) / 1e6 !== s.endMs) fail('end differs');
      const links = json.links
        .filter((l) => l.traceId.length === 32 && l.spanId.length === 16)
        .map((l) => ({ traceId: l.traceId, spanId: l.spanId }));
      if (JSON.stringify(links) !== JSON.stringify(s.links))
        fail('links differ from decodeSpanJson');
    }
    try {
      void s.resource.attributes;
    } catch (e) {
      if (!(e instanceof ProtoDecodeError))
        fail('resource.attributes threw something other than ProtoDecodeError', e);
      stats.resourceRefused++;
    }
  }
  return out;
}

/** Checks a structured request's decoding against what its generator expects. */
function checkExpected(gen: RequestGen, out: DecodedBatch | undefined, where: string): void {
  const fail = (what: string): never => {
    throw new FuzzFailure(
      `${what}\n  seed ${SEED} (STAGELIGHT_FUZZ_SEED=${SEED}), ${where}\n  input (${gen.bytes.length} bytes): ${gen.bytes.toString('hex')}`,
    );
  };
  if (!out) return fail('a well-formed request threw');
  const accepted = gen.spans.filter((s) => s.reason === undefined);
  const refused = gen.spans.filter((s) => s.reason !== undefined);
  if (out.rejected !== refused.length) {
    fail(
      `rejected ${out.rejected}, expected ${refused.length}: ${JSON.stringify(out.rejectReasons)} vs ${refused.map((s) => String(s.reason)).join(' | ')}`,
    );
  }
  for (const r of out.rejectReasons) {
    const known = refused.some((s) =>
      typeof s.reason === 'string' ? s.reason === r : s.reason!.test(r),
    );
    if (!known) fail(`unexpected reject reason ${JSON.stringify(r)}`);
  }
  const first = refused[0]?.reason;
  if (
    first !== undefined &&
    !(typeof first === 'string'
      ? out.rejectReasons[0] === first
      : first.test(out.rejectReasons[0] ?? ''))
  ) {
    fail(`first reason ${JSON.stringify(out.rejectReasons[0])}, expected ${String(first)}`);
  }
  if (out.spans.length !== accepted.length) {
    fail(`accepted ${out.spans.length} spans, expected ${accepted.length}`);
  }
  out.spans.forEach((rec, i) => {
    const exp = accepted[i]!;
    const got = {
      traceId: rec.traceId,
      spanId: rec.spanId,
      parentSpanId: rec.parentSpanId,
      startMs: rec.startMs,
      endMs: rec.endMs,
      serviceName: rec.serviceName,
      scope: [rec.scope.name, rec.scope.version],
    };
    const want = {
      traceId: exp.traceId,
      spanId: exp.spanId,
      parentSpanId: exp.parentSpanId,
      startMs: Number(exp.startNs) / 1e6,
      endMs: Number(exp.endNs) / 1e6,
      serviceName: exp.serviceName,
      scope: [exp.scopeName, exp.scopeVersion],
    };
    try {
      assert.deepStrictEqual(got, want);
      assert.equal(rec.name, exp.json.name);
      assert.equal(rec.kind, exp.json.kind);
      assert.equal(rec.statusCode, exp.json.status.code ?? 0);
      assert.ok(Buffer.from(rec.raw).equals(exp.raw), 'raw differs from the span bytes sent');
      assert.deepStrictEqual(decodeSpanJson(rec.raw), exp.json);
      if (exp.json.links.length === 0) assert.equal(rec.links, NO_LINKS);
    } catch (e) {
      fail(`span ${i}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------

function report(t: TestContext, name: string, stats: Stats, ms: number): void {
  t.diagnostic(
    `${name}: ${stats.executions} executions in ${ms} ms (seed ${SEED}): ${stats.decoded} decoded, ` +
      `${stats.protoErrors} ProtoDecodeError, ${stats.spans} spans accepted, ${stats.rejected} rejected, ` +
      `${stats.detailsRefused} accepted spans refused by decodeSpanJson, ` +
      `${stats.resourceRefused} resources with undecodable attributes`,
  );
}

/** Runs `step(rng, i)` until the phase's share of the budget is spent. */
function runFor(ms: number, seed: number, step: (rng: Rng, i: number) => void): number {
  const rng = new Rng(seed);
  const deadline = Date.now() + ms;
  let i = 0;
  do {
    for (let k = 0; k < 16; k++) step(rng, i++);
  } while (Date.now() < deadline);
  return i;
}

const PHASE_MS = Math.max(1, Math.floor(BUDGET_MS / 3));

describe(`decoder fuzzing (seed ${SEED}, ${BUDGET_MS} ms)`, () => {
  it('(a) random bytes: a batch or a ProtoDecodeError', (t) => {
    const stats = newStats();
    const cache = new DecodeCache(64);
    const started = Date.now();
    runFor(PHASE_MS, SEED ^ 0xa11ce, (rng, i) => {
      const n = rng.pick([0, 1, 2, 3, 5, 8, 16, 40, 100, 300]);
      let bytes = rng.bytes(n);
      // Bias towards the shapes the decoder reads: a resource_spans tag first.
      if (n > 0 && rng.chance(0.5)) bytes[0] = 0x0a;
      if (n > 2 && rng.chance(0.3)) bytes = cat(Buffer.from([0x0a, n - 2]), bytes.subarray(2));
      check(bytes, rng.pick(PROFILES).limits, cache, stats, `random bytes #${i}`);
    });
    report(t, 'random bytes', stats, Date.now() - started);
    assert.ok(stats.executions > 0);
  });

  it('(b) mutated valid requests: a batch or a ProtoDecodeError', (t) => {
    const stats = newStats();
    const cache = new DecodeCache(64);
    const started = Date.now();
    let base: RequestGen | undefined;
    let donor: RequestGen | undefined;
    let baseTree: FieldNode[] | undefined;
    let donorTree: FieldNode[] | undefined;
    runFor(PHASE_MS, SEED ^ 0xb0b, (rng, i) => {
      // Generating is dearer than decoding: each base serves 32 mutants. Small bases make
      // mutations hit the interesting bytes more often.
      if (i % 32 === 0 || !base || !donor) {
        base = randomRequest(rng, 0.1, rng.chance(0.8));
        donor = randomRequest(rng, 0.1, true);
        baseTree = parseFields(base.bytes);
        donorTree = parseFields(donor.bytes);
      }
      let bytes = base.bytes;
      let tree = baseTree?.map(cloneNode);
      const ops = rng.range(1, 4);
      for (let k = 0; k < ops; k++) {
        if (rng.chance(0.6)) {
          // The tree of the current bytes: the base's, or a re-parse after a byte mutation.
          tree ??= parseFields(bytes);
          if (tree) {
            mutateTree(rng, tree, donorTree);
            bytes = serializeFields(tree);
            continue;
          }
        }
        bytes = mutateBytes(rng, bytes, donor.bytes);
        tree = undefined;
      }
      check(bytes, base.profile.limits, cache, stats, `mutation #${i}`);
    });
    report(t, 'mutations', stats, Date.now() - started);
    assert.ok(stats.executions > 0);
  });

  it('(c) structured random requests decode as generated', (t) => {
    const stats = newStats();
    const cache = new DecodeCache(64);
    const started = Date.now();
    runFor(PHASE_MS, SEED ^ 0xc0ffee, (rng, i) => {
      const gen = randomRequest(rng, 0.25);
      const where = `structured #${i}`;
      checkExpected(gen, check(gen.bytes, gen.profile.limits, cache, stats, where), where);
    });
    report(t, 'structured', stats, Date.now() - started);
    assert.ok(stats.spans > 0 && stats.rejected > 0);
    // Every span here is valid or has one defect the decoder must name; none reaches a gap.
    assert.equal(stats.detailsRefused, 0);
  });

  it('self-check: the tree mutator round-trips unmutated requests', () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < 50; i++) {
      const { bytes } = randomRequest(rng, 0.2);
      const tree = parseFields(bytes);
      assert.ok(tree);
      assert.ok(serializeFields(tree).equals(bytes));
    }
  });
});
