/**
 * Hand-built `SpanRecord`s for unit tests of the analysis: no wire bytes, tiny literal resources.
 */

import {
  SpanKind,
  SpanRecord,
  StatusCode,
  type LinkRef,
  type ResourceInfo,
  type ScopeInfo,
} from '../../../src/core/model.js';
import type { AttributeGetter, AttributeValue } from '../../../src/core/analysis/index.js';

const EMPTY = new Uint8Array(0);

const resources = new Map<string, ResourceInfo>();

/** One shared resource per service name, as the decoder would share them. */
export function resourceFor(serviceName: string): ResourceInfo {
  let r = resources.get(serviceName);
  if (r === undefined) {
    r = {
      raw: EMPTY,
      serviceName,
      attributes: [{ key: 'service.name', value: { stringValue: serviceName } }],
      droppedAttributesCount: 0,
      schemaUrl: '',
    };
    resources.set(serviceName, r);
  }
  return r;
}

export const TEST_SCOPE: ScopeInfo = {
  raw: EMPTY,
  name: 'stagelight-test',
  version: '0',
  schemaUrl: '',
};

export interface SpanSpec {
  traceId?: string;
  spanId: string;
  /** Parent span id; '' or absent for a root. */
  parent?: string;
  /** Defaults to the span id. */
  name?: string;
  service?: string;
  start: number;
  end: number;
  kind?: number;
  status?: number;
  /** Span ids in the same trace, or full refs. */
  links?: readonly (string | LinkRef)[];
}

export const DEFAULT_TRACE = 'trace-1';

export function makeSpan({
  traceId = DEFAULT_TRACE,
  spanId,
  parent = '',
  name = spanId,
  service = 'svc',
  start,
  end,
  kind = SpanKind.INTERNAL,
  status = StatusCode.UNSET,
  links = [],
}: SpanSpec): SpanRecord {
  const refs = links.map((l) => (typeof l === 'string' ? { traceId, spanId: l } : l));
  return new SpanRecord(
    traceId,
    spanId,
    parent,
    name,
    kind,
    start,
    end,
    status,
    refs,
    resourceFor(service),
    TEST_SCOPE,
    EMPTY,
  );
}

/** An attribute getter over a literal table: span id -> key -> value. */
export function attributesFrom(
  table: Record<string, Record<string, AttributeValue>>,
): AttributeGetter {
  return (span, key) => table[span.spanId]?.[key];
}

export const noAttributes: AttributeGetter = () => undefined;

/**
 * gateway -> preprocessing -> embedding -> retrieve (producer) ~> consumer -> reranking ->
 * generation -> postprocessing, with a 3 ms queue wait between producer and consumer.
 */
export const PIPELINE: readonly SpanSpec[] = [
  {
    spanId: 'gw',
    name: 'POST /generate',
    service: 'gateway',
    start: 0,
    end: 100,
    kind: SpanKind.SERVER,
  },
  { spanId: 'pre', parent: 'gw', name: 'preprocessing', start: 2, end: 10 },
  { spanId: 'emb', parent: 'gw', name: 'embedding', service: 'embedder', start: 10, end: 30 },
  { spanId: 'ret', parent: 'gw', name: 'retrieve', start: 30, end: 32, kind: SpanKind.PRODUCER },
  {
    spanId: 'con',
    parent: 'ret',
    name: 'retrieval-worker',
    service: 'retriever',
    start: 35,
    end: 45,
    kind: SpanKind.CONSUMER,
  },
  { spanId: 'rr', parent: 'gw', name: 'reranking', start: 46, end: 60 },
  { spanId: 'gen', parent: 'gw', name: 'generation', service: 'llm', start: 60, end: 95 },
  { spanId: 'post', parent: 'gw', name: 'postprocessing', start: 95, end: 99 },
];
