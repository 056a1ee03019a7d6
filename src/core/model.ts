/**
 * The store's representation of spans. The protobuf decoder writes these directly from the
 * wire bytes (no intermediate OTLP object tree); everything downstream (store, analysis, read
 * API, persistence) reads them.
 *
 * Memory is the design constraint: a `SpanRecord` holds only what the store's indexes and the
 * analysis touch on every span (ids, name, kind, times, status, links). Attributes, events and
 * the exact nanosecond timestamps stay in `raw`, the span's own protobuf bytes, and are decoded
 * on demand (`decodeSpanJson` in `otlp/span-details.ts`).
 */

/** OTLP `Span.SpanKind` numbers. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

/** OTLP `Status.StatusCode` numbers. */
export const StatusCode = {
  UNSET: 0,
  OK: 1,
  ERROR: 2,
} as const;

/**
 * An attribute value in the OTLP JSON shape (`AnyValue`): exactly one key is set. int64 is a
 * decimal string so that values beyond 2^53 survive; bytes are base64, as proto3 JSON says.
 */
export type AnyValueJson =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValueJson[] } }
  | { kvlistValue: { values: KeyValueJson[] } }
  | { bytesValue: string }
  // An AnyValue with no field set (allowed by the spec: an empty value).
  | Record<string, never>;

export interface KeyValueJson {
  key: string;
  value: AnyValueJson;
}

/** The resource of a batch. One shared instance per distinct encoding, so spans cost a pointer. */
export interface ResourceInfo {
  /** The `Resource` message bytes as received (empty for an absent resource). */
  readonly raw: Uint8Array;
  /** `service.name`, or `unknown_service` when the resource has none. */
  readonly serviceName: string;
  readonly attributes: readonly KeyValueJson[];
  readonly droppedAttributesCount: number;
  /** `ResourceSpans.schema_url`. */
  readonly schemaUrl: string;
}

/** The instrumentation scope of a batch; shared like `ResourceInfo`. */
export interface ScopeInfo {
  /** The `InstrumentationScope` message bytes as received (empty when absent). */
  readonly raw: Uint8Array;
  readonly name: string;
  readonly version: string;
  /** `ScopeSpans.schema_url`. */
  readonly schemaUrl: string;
}

/** A link from a span to another span, possibly in another trace. */
export interface LinkRef {
  readonly traceId: string;
  readonly spanId: string;
}

export const NO_LINKS: readonly LinkRef[] = Object.freeze([]);

/**
 * One stored span. Ids are lowercase hex; `parentSpanId` is '' for a root. Times are
 * milliseconds since the Unix epoch as doubles (sub-microsecond precision is kept only in `raw`).
 */
export class SpanRecord {
  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly parentSpanId: string,
    readonly name: string,
    readonly kind: number,
    readonly startMs: number,
    readonly endMs: number,
    readonly statusCode: number,
    readonly links: readonly LinkRef[],
    readonly resource: ResourceInfo,
    readonly scope: ScopeInfo,
    /**
     * This span's `Span` message bytes, exactly as received (or as encoded from OTLP JSON). The
     * store may move them into a buffer of the span's trace (same bytes, see `trace-store.ts`),
     * so read `raw` when needed rather than keeping it.
     */
    public raw: Uint8Array,
  ) {}

  get durationMs(): number {
    return this.endMs - this.startMs;
  }

  get serviceName(): string {
    return this.resource.serviceName;
  }

  get isError(): boolean {
    return this.statusCode === StatusCode.ERROR;
  }
}

/** A span decoded in full, in the OTLP JSON shape (what the read API returns). */
export interface SpanJson {
  traceId: string;
  spanId: string;
  traceState?: string;
  parentSpanId?: string;
  flags?: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValueJson[];
  droppedAttributesCount?: number;
  events: EventJson[];
  droppedEventsCount?: number;
  links: LinkJson[];
  droppedLinksCount?: number;
  status: { code?: number; message?: string };
}

export interface EventJson {
  timeUnixNano: string;
  name: string;
  attributes: KeyValueJson[];
  droppedAttributesCount?: number;
}

export interface LinkJson {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes: KeyValueJson[];
  droppedAttributesCount?: number;
  flags?: number;
}
