/**
 * Decodes a protobuf `ExportMetricsServiceRequest` into data points a viewer needs: per metric
 * (service, name, unit, kind) and attribute set, the points' times and values; for histograms
 * their count, sum, min, max and buckets; exemplars with their trace and span ids.
 *
 * Kept: gauges, sums (with temporality and monotonicity), explicit-bucket histograms and
 * exponential histograms. Dropped: summaries (a legacy type no OpenTelemetry SDK emits; each
 * summary point is counted as rejected, with the reason), metric metadata, exemplars' filtered
 * attributes, and a point's flags other than "no recorded value" (such points are skipped).
 *
 * Error policy (OTLP partial success, `rejected_data_points`):
 * - broken framing of the request, a ResourceMetrics, a ScopeMetrics or a Metric throws
 *   `ProtoDecodeError`;
 * - a data point that is malformed or invalid is rejected alone with its reason: a value that
 *   is NaN or infinite, a histogram whose bucket counts do not add up to its count or whose
 *   bounds are not finite and increasing, more attributes or buckets or exemplars than the
 *   limits, ids of the wrong length in an exemplar;
 * - a resource or scope that is malformed or has too many attributes rejects its points.
 */
import { ProtoDecodeError, ProtoReader, WireType, hexOf } from './proto-reader.js';
import type { KeyValueJson, ResourceInfo, ScopeInfo } from '../model.js';
import { readKeyValue } from './span-details.js';
import {
  forEachResource,
  forEachScope,
  isAllZero,
  reject,
  type EnvelopeNames,
} from './envelope.js';
import { DecodeCache, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './trace-request-decoder.js';

export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram';

export interface MetricExemplar {
  timeMs: number;
  value: number;
  /** '' when the exemplar has no span context. */
  traceId: string;
  spanId: string;
}

export interface HistogramValue {
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  /** Explicit histograms: upper bounds (one fewer than `counts`). */
  bounds?: number[];
  counts?: number[];
  /** Exponential histograms: base 2^(2^-scale), buckets from `offset`. */
  scale?: number;
  zeroCount?: number;
  positive?: { offset: number; counts: number[] };
  negative?: { offset: number; counts: number[] };
}

export interface MetricPoint {
  readonly service: string;
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly kind: MetricKind;
  /** Sums: whether the value only grows; `temporality` 1 = delta, 2 = cumulative. */
  readonly monotonic: boolean;
  readonly temporality: number;
  readonly attributes: readonly KeyValueJson[];
  readonly timeMs: number;
  readonly startTimeMs: number;
  /** Gauges and sums. */
  readonly value?: number;
  readonly histogram?: HistogramValue;
  readonly exemplars: readonly MetricExemplar[];
  readonly resource: ResourceInfo;
  readonly scope: ScopeInfo;
  /** The point's own encoding (a `NumberDataPoint` or histogram data point message). */
  readonly raw: Uint8Array;
  /** What it costs the memory budget: its encoding three times over and a fixed part. */
  readonly bytes: number;
}

export interface DecodedMetrics {
  points: MetricPoint[];
  rejected: number;
  rejectReasons: string[];
}

export interface MetricLimits extends DecodeLimits {
  /** Buckets of one histogram point (explicit, or each side of an exponential one). */
  maxBuckets: number;
  maxExemplarsPerPoint: number;
}

export const DEFAULT_METRIC_LIMITS: MetricLimits = {
  ...DEFAULT_DECODE_LIMITS,
  maxBuckets: 4096,
  maxExemplarsPerPoint: 64,
};

/** The scales the OTLP specification allows for exponential histograms. */
const MIN_SCALE = -10;
const MAX_SCALE = 20;
const POINT_OVERHEAD_BYTES = 200;
/** DataPointFlags.FLAG_NO_RECORDED_VALUE. */
const NO_RECORDED_VALUE = 1;

class PointRejection extends Error {}

/**
 * Decodes one `ExportMetricsServiceRequest`. Throws `ProtoDecodeError` when its framing is
 * broken; invalid points inside a well-formed request are counted in `rejected`.
 */
export function decodeMetricsRequest(
  bytes: Uint8Array,
  cache: DecodeCache = new DecodeCache(),
  limits: MetricLimits = DEFAULT_METRIC_LIMITS,
): DecodedMetrics {
  const out: DecodedMetrics = { points: [], rejected: 0, rejectReasons: [] };
  forEachResource(bytes, 'ExportMetricsServiceRequest.resource_metrics', (r, end) =>
    decodeResourceMetrics(r, end, cache, limits, out),
  );
  return out;
}

const METRIC_ENVELOPE: EnvelopeNames = {
  resourceList: 'ResourceMetrics',
  scopeList: 'ScopeMetrics',
  scopesField: 'scope_metrics',
  itemsField: 'metrics',
};

function decodeResourceMetrics(
  r: ProtoReader,
  end: number,
  cache: DecodeCache,
  limits: MetricLimits,
  out: DecodedMetrics,
): void {
  const outerEnd = r.end;
  forEachScope(
    r,
    end,
    cache,
    limits.maxAttributesPerSpan,
    METRIC_ENVELOPE,
    (scopeEnd, ctx, why) => {
      // Each metric is walked even when its resource or scope is unusable: its points are what
      // partial success counts.
      r.end = scopeEnd;
      while (r.pos < r.end) {
        const tag = r.tag();
        if (tag >>> 3 === 2) {
          r.expect(tag, WireType.LEN, 'ScopeMetrics.metrics');
          const metricEnd = r.lengthDelimitedEnd();
          decodeMetric(r, metricEnd, ctx, why, limits, out);
          r.end = scopeEnd;
          r.pos = metricEnd;
        } else {
          r.skip(tag & 7);
        }
      }
    },
  );
  r.end = outerEnd;
}

interface MetricHead {
  service: string;
  name: string;
  unit: string;
  description: string;
  kind: MetricKind;
  monotonic: boolean;
  temporality: number;
  resource: ResourceInfo;
  scope: ScopeInfo;
}

const KIND_BY_FIELD: Readonly<Record<number, MetricKind | 'summary'>> = {
  5: 'gauge',
  7: 'sum',
  9: 'histogram',
  10: 'exponentialHistogram',
  11: 'summary',
};

/** A Metric: its name and kind first (any order on the wire), then its points. */
function decodeMetric(
  r: ProtoReader,
  end: number,
  ctx: { resource: ResourceInfo; scope: ScopeInfo } | undefined,
  reason: string,
  limits: MetricLimits,
  out: DecodedMetrics,
): void {
  r.end = end;
  let name = '';
  let unit = '';
  let description = '';
  let kind: MetricKind | 'summary' | undefined;
  let dataStart = 0;
  let dataEnd = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      r.expect(tag, WireType.LEN, 'Metric.name');
      name = r.string();
    } else if (field === 2) {
      r.expect(tag, WireType.LEN, 'Metric.description');
      description = r.string();
    } else if (field === 3) {
      r.expect(tag, WireType.LEN, 'Metric.unit');
      unit = r.string();
    } else if (KIND_BY_FIELD[field] !== undefined) {
      r.expect(tag, WireType.LEN, `Metric.${KIND_BY_FIELD[field]}`);
      // A oneof: the last member on the wire wins.
      kind = KIND_BY_FIELD[field];
      dataEnd = r.lengthDelimitedEnd();
      dataStart = r.pos;
      r.pos = dataEnd;
    } else {
      r.skip(tag & 7);
    }
  }
  if (kind === undefined) return;
  // The data message: its points (field 1), temporality (2) and monotonicity (3, sums).
  r.pos = dataStart;
  r.end = dataEnd;
  let temporality = 0;
  let monotonic = false;
  const points: number[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1) {
      r.expect(tag, WireType.LEN, `${kind}.data_points`);
      const e = r.lengthDelimitedEnd();
      points.push(r.pos, e);
      r.pos = e;
    } else if (field === 2 && kind !== 'gauge' && kind !== 'summary') {
      r.expect(tag, WireType.VARINT, `${kind}.aggregation_temporality`);
      temporality = r.uint32();
    } else if (field === 3 && kind === 'sum') {
      r.expect(tag, WireType.VARINT, 'sum.is_monotonic');
      monotonic = r.bool();
    } else {
      r.skip(tag & 7);
    }
  }
  const count = points.length / 2;
  if (ctx === undefined || kind === 'summary') {
    const why = ctx === undefined ? reason : 'summary metrics are not kept';
    for (let i = 0; i < count; i++) reject(out, why);
    return;
  }
  if (name === '') {
    for (let i = 0; i < count; i++) reject(out, 'metric has no name');
    return;
  }
  const head: MetricHead = {
    service: ctx.resource.serviceName,
    name,
    unit,
    description,
    kind,
    monotonic,
    temporality,
    resource: ctx.resource,
    scope: ctx.scope,
  };
  for (let i = 0; i < points.length; i += 2) {
    r.pos = points[i]!;
    r.end = points[i + 1]!;
    try {
      const p = decodePoint(r, head, limits);
      if (p !== undefined) out.points.push(p);
    } catch (e) {
      if (!(e instanceof PointRejection || e instanceof ProtoDecodeError)) throw e;
      reject(out, e instanceof ProtoDecodeError ? `malformed data point: ${e.message}` : e.message);
    }
    r.end = dataEnd;
  }
}

function readSfixed64(r: ProtoReader): number {
  if (r.pos + 8 > r.end) r.fail('truncated sfixed64');
  const v = Number(r.buf.readBigInt64LE(r.pos));
  r.pos += 8;
  return v;
}

function readSint32(r: ProtoReader): number {
  const n = r.uint32();
  return (n >>> 1) ^ -(n & 1);
}

/** A repeated fixed64 or double field, packed (LEN) or not (I64), appended to `into`. */
function readRepeated64(
  r: ProtoReader,
  tag: number,
  into: number[],
  max: number,
  what: string,
  read: (r: ProtoReader) => number,
): void {
  if ((tag & 7) === WireType.LEN) {
    const e = r.lengthDelimitedEnd();
    if ((e - r.pos) % 8 !== 0) r.fail(`${what}: packed length not a multiple of 8`);
    if (into.length + (e - r.pos) / 8 > max) throw new PointRejection(`more than ${max} ${what}`);
    while (r.pos < e) into.push(read(r));
  } else {
    r.expect(tag, WireType.I64, what);
    if (into.length >= max) throw new PointRejection(`more than ${max} ${what}`);
    into.push(read(r));
  }
}

/** A repeated uint64 (varint) field, packed or not. */
function readRepeatedVarint(
  r: ProtoReader,
  tag: number,
  into: number[],
  max: number,
  what: string,
) {
  if ((tag & 7) === WireType.LEN) {
    const e = r.lengthDelimitedEnd();
    const saved = r.end;
    r.end = e;
    while (r.pos < e) {
      if (into.length >= max) throw new PointRejection(`more than ${max} ${what}`);
      into.push(r.uint64Number());
    }
    r.end = saved;
  } else {
    r.expect(tag, WireType.VARINT, what);
    if (into.length >= max) throw new PointRejection(`more than ${max} ${what}`);
    into.push(r.uint64Number());
  }
}

const fixed64 = (r: ProtoReader): number => r.fixed64Number();
const double = (r: ProtoReader): number => r.double();

function nested<T>(r: ProtoReader, read: () => T): T {
  const end = r.lengthDelimitedEnd();
  const saved = r.end;
  r.end = end;
  const v = read();
  r.end = saved;
  r.pos = end;
  return v;
}

function finite(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new PointRejection(`${what} is ${v}`);
  return v;
}

function nsToMs(ns: number): number {
  return ns / 1e6;
}

/** Field numbers of one point type, which differ between the four. */
interface PointFields {
  attributes: number;
  exemplars: number;
  flags: number;
}

const POINT_FIELDS: Readonly<Record<MetricKind, PointFields>> = {
  gauge: { attributes: 7, exemplars: 5, flags: 8 },
  sum: { attributes: 7, exemplars: 5, flags: 8 },
  histogram: { attributes: 9, exemplars: 8, flags: 10 },
  exponentialHistogram: { attributes: 1, exemplars: 11, flags: 10 },
};

function decodePoint(
  r: ProtoReader,
  head: MetricHead,
  limits: MetricLimits,
): MetricPoint | undefined {
  const start = r.pos;
  const fields = POINT_FIELDS[head.kind];
  const attributes: KeyValueJson[] = [];
  const exemplars: MetricExemplar[] = [];
  let timeNs = 0;
  let startNs = 0;
  let flags = 0;
  let value: number | undefined;
  const h: HistogramValue = { count: 0 };
  const bounds: number[] = [];
  const counts: number[] = [];
  const isHistogram = head.kind === 'histogram' || head.kind === 'exponentialHistogram';
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === fields.attributes) {
      r.expect(tag, WireType.LEN, 'attributes');
      if (attributes.length >= limits.maxAttributesPerSpan) {
        throw new PointRejection(
          `data point has more than ${limits.maxAttributesPerSpan} attributes`,
        );
      }
      attributes.push(nested(r, () => readKeyValue(r, 1)));
    } else if (field === fields.exemplars) {
      r.expect(tag, WireType.LEN, 'exemplars');
      if (exemplars.length >= limits.maxExemplarsPerPoint) {
        throw new PointRejection(
          `data point has more than ${limits.maxExemplarsPerPoint} exemplars`,
        );
      }
      exemplars.push(nested(r, () => readExemplar(r)));
    } else if (field === fields.flags) {
      r.expect(tag, WireType.VARINT, 'flags');
      flags = r.uint32();
    } else if (field === 2) {
      r.expect(tag, WireType.I64, 'start_time_unix_nano');
      startNs = r.fixed64Number();
    } else if (field === 3) {
      r.expect(tag, WireType.I64, 'time_unix_nano');
      timeNs = r.fixed64Number();
    } else if (!isHistogram && field === 4) {
      r.expect(tag, WireType.I64, 'as_double');
      value = finite(r.double(), 'value');
    } else if (!isHistogram && field === 6) {
      r.expect(tag, WireType.I64, 'as_int');
      value = readSfixed64(r);
    } else if (isHistogram && field === 4) {
      r.expect(tag, WireType.I64, 'count');
      h.count = r.fixed64Number();
    } else if (isHistogram && field === 5) {
      r.expect(tag, WireType.I64, 'sum');
      h.sum = finite(r.double(), 'sum');
    } else if (head.kind === 'histogram' && field === 6) {
      readRepeated64(r, tag, counts, limits.maxBuckets + 1, 'bucket counts', fixed64);
    } else if (head.kind === 'histogram' && field === 7) {
      readRepeated64(r, tag, bounds, limits.maxBuckets, 'bucket bounds', double);
    } else if (head.kind === 'histogram' && (field === 11 || field === 12)) {
      r.expect(tag, WireType.I64, field === 11 ? 'min' : 'max');
      h[field === 11 ? 'min' : 'max'] = finite(r.double(), field === 11 ? 'min' : 'max');
    } else if (head.kind === 'exponentialHistogram') {
      decodeExponentialField(r, tag, field, h, limits);
    } else {
      r.skip(tag & 7);
    }
  }
  if ((flags & NO_RECORDED_VALUE) !== 0) return undefined;
  if (timeNs === 0) throw new PointRejection('data point has no time_unix_nano');
  if (!isHistogram && value === undefined) throw new PointRejection('data point has no value');
  if (head.kind === 'histogram') checkExplicit(h, bounds, counts);
  if (head.kind === 'exponentialHistogram') checkExponential(h);
  return {
    service: head.service,
    name: head.name,
    unit: head.unit,
    description: head.description,
    kind: head.kind,
    monotonic: head.monotonic,
    temporality: head.temporality,
    attributes,
    timeMs: nsToMs(timeNs),
    startTimeMs: nsToMs(startNs),
    ...(isHistogram ? { histogram: h } : { value }),
    exemplars,
    resource: head.resource,
    scope: head.scope,
    raw: Buffer.from(r.buf.subarray(start, r.end)),
    bytes: (r.end - start) * 3 + POINT_OVERHEAD_BYTES,
  };
}

function checkExplicit(h: HistogramValue, bounds: number[], counts: number[]): void {
  if (counts.length > 0 && counts.length !== bounds.length + 1) {
    throw new PointRejection(
      `histogram has ${counts.length} bucket counts for ${bounds.length} bounds (expected ${bounds.length + 1})`,
    );
  }
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i]!) || (i > 0 && !(bounds[i]! > bounds[i - 1]!))) {
      throw new PointRejection('histogram bounds must be finite and increasing');
    }
  }
  let total = 0;
  for (const c of counts) total += c;
  if (counts.length > 0 && total !== h.count) {
    throw new PointRejection(
      `histogram bucket counts add up to ${total}, not its count ${h.count}`,
    );
  }
  if (counts.length > 0) {
    h.bounds = bounds;
    h.counts = counts;
  }
}

function decodeExponentialField(
  r: ProtoReader,
  tag: number,
  field: number,
  h: HistogramValue,
  limits: MetricLimits,
): void {
  switch (field) {
    case 6:
      r.expect(tag, WireType.VARINT, 'scale');
      h.scale = readSint32(r);
      break;
    case 7:
      r.expect(tag, WireType.I64, 'zero_count');
      h.zeroCount = r.fixed64Number();
      break;
    case 8:
    case 9: {
      r.expect(tag, WireType.LEN, field === 8 ? 'positive' : 'negative');
      const side = nested(r, () => readBuckets(r, limits));
      h[field === 8 ? 'positive' : 'negative'] = side;
      break;
    }
    case 12:
    case 13:
      r.expect(tag, WireType.I64, field === 12 ? 'min' : 'max');
      h[field === 12 ? 'min' : 'max'] = finite(r.double(), field === 12 ? 'min' : 'max');
      break;
    default:
      r.skip(tag & 7);
  }
}

function readBuckets(r: ProtoReader, limits: MetricLimits): { offset: number; counts: number[] } {
  let offset = 0;
  const counts: number[] = [];
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) {
      r.expect(tag, WireType.VARINT, 'Buckets.offset');
      offset = readSint32(r);
    } else if (tag >>> 3 === 2) {
      readRepeatedVarint(r, tag, counts, limits.maxBuckets, 'exponential buckets');
    } else {
      r.skip(tag & 7);
    }
  }
  return { offset, counts };
}

function checkExponential(h: HistogramValue): void {
  const scale = h.scale ?? 0;
  if (scale < MIN_SCALE || scale > MAX_SCALE) {
    throw new PointRejection(
      `exponential histogram scale ${scale} is outside ${MIN_SCALE} to ${MAX_SCALE}`,
    );
  }
  let total = h.zeroCount ?? 0;
  for (const c of h.positive?.counts ?? []) total += c;
  for (const c of h.negative?.counts ?? []) total += c;
  if (total !== h.count) {
    throw new PointRejection(
      `exponential histogram buckets add up to ${total}, not its count ${h.count}`,
    );
  }
}

function readExemplar(r: ProtoReader): MetricExemplar {
  let timeNs = 0;
  let value = 0;
  let traceId = '';
  let spanId = '';
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 2:
        r.expect(tag, WireType.I64, 'Exemplar.time_unix_nano');
        timeNs = r.fixed64Number();
        break;
      case 3:
        r.expect(tag, WireType.I64, 'Exemplar.as_double');
        value = finite(r.double(), 'exemplar value');
        break;
      case 6:
        r.expect(tag, WireType.I64, 'Exemplar.as_int');
        value = readSfixed64(r);
        break;
      case 4:
      case 5: {
        const isTrace = tag >>> 3 === 5;
        r.expect(tag, WireType.LEN, isTrace ? 'Exemplar.trace_id' : 'Exemplar.span_id');
        const e = r.lengthDelimitedEnd();
        const size = isTrace ? 16 : 8;
        const n = e - r.pos;
        if (n !== 0 && n !== size) {
          throw new PointRejection(
            `exemplar ${isTrace ? 'trace_id' : 'span_id'} must be ${size} bytes, got ${n}`,
          );
        }
        const id = n === 0 || isAllZero(r.buf, r.pos, e) ? '' : hexOf(r.buf, r.pos, e);
        if (isTrace) traceId = id;
        else spanId = id;
        r.pos = e;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return { timeMs: nsToMs(timeNs), value, traceId, spanId: traceId === '' ? '' : spanId };
}
