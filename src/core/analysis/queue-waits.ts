/**
 * Queue waits: how long a message sat between the span that produced it and the span that
 * consumed it. Only messaging is considered (PRODUCER -> CONSUMER, or spans whose `messaging.*`
 * attributes say so); CLIENT -> SERVER gaps are network and scheduling time, not queueing.
 */

import { SpanKind, type SpanRecord } from '../model.js';
import type { TraceTree } from './trace-tree.js';

/** An attribute value as the span-details decoder returns it; undefined when absent. */
export type AttributeValue = string | number | boolean | undefined;

/**
 * Reads one attribute of a span. Injected because attributes stay in the span's raw bytes and
 * decoding them is another module's job (and costly, so it is called only when needed).
 */
export type AttributeGetter = (span: SpanRecord, key: string) => AttributeValue;

/** One message's trip through a queue. */
export interface QueueWait {
  /** `messaging.destination.name`, else `messaging.destination`, else the producer's span name. */
  readonly queue: string;
  readonly producer: SpanRecord;
  readonly consumer: SpanRecord;
  /** How the consumer refers to the producer: as its parent, or through a span link. */
  readonly relation: 'child' | 'link';
  /**
   * The wait we report: max(0, consumer start - producer end). The message was enqueued at some
   * instant inside the producer span, which we cannot see, so the true wait lies between this
   * lower bound and `maxWaitMs`. When the consumer starts before the producer span ends (an
   * asynchronous send whose span closes on the broker's ack, say) the lower bound is 0: there
   * is no evidence of queueing. We deliberately do not switch to the producer's start in that
   * case, as that would mix a lower bound with an upper bound in one column.
   */
  readonly waitMs: number;
  /** Upper bound: max(0, consumer start - producer start). */
  readonly maxWaitMs: number;
  /** True when the consumer started before the producer span ended. */
  readonly overlapped: boolean;
}

/** Roles as cached per row: 0 is "not classified yet". */
const UNKNOWN = 0;
const NONE = 1;
const PRODUCER = 2;
const CONSUMER = 3;
type Role = typeof NONE | typeof PRODUCER | typeof CONSUMER;

const PRODUCER_OPERATIONS = new Set(['publish', 'send', 'create']);
const CONSUMER_OPERATIONS = new Set(['receive', 'process', 'deliver']);

/**
 * Finds the queue waits of a trace, in consumer start order. A consumer that links to several
 * producers (batch processing) yields one wait per producer; a pair is reported once even when
 * the producer is both the parent and a link target.
 *
 * Roles: kind PRODUCER and CONSUMER decide on their own; SERVER is never part of a pair. For
 * UNSPECIFIED, INTERNAL and CLIENT spans (CLIENT is what current messaging conventions give a
 * pull-based `receive`) the role comes from `messaging.operation.type`, else
 * `messaging.operation`: publish/send/create produce, receive/process/deliver consume.
 * A getter that throws for a span counts as "no attribute".
 *
 * Attribute decoding is the cost here, so each span's role is decoded at most once, and only
 * when it can matter: a span's own role is read only once one of the spans it refers to is a
 * producer (most spans refer only to their parent, and most parents are not producers).
 */
export function findQueueWaits(tree: TraceTree, getAttribute: AttributeGetter): QueueWait[] {
  const attr = tolerant(getAttribute);
  const spans = tree.spans;
  const n = spans.length;
  const { kind, declaredParentRow, hasLinks } = tree;
  const roles = new Uint8Array(n);
  const roleOf = (row: number): Role => {
    let role = roles[row] as number;
    if (role === UNKNOWN) {
      const k = kind[row];
      role =
        k === SpanKind.PRODUCER
          ? PRODUCER
          : k === SpanKind.CONSUMER
            ? CONSUMER
            : k === SpanKind.SERVER
              ? NONE
              : roleByAttributes(spans[row] as SpanRecord, attr);
      roles[row] = role;
    }
    return role as Role;
  };

  const waits: QueueWait[] = [];
  const add = (p: number, row: number, relation: 'child' | 'link'): void => {
    const producer = spans[p] as SpanRecord;
    const consumer = spans[row] as SpanRecord;
    const waitMs = Math.max(0, consumer.startMs - producer.endMs);
    waits.push({
      queue: queueName(producer, consumer, attr),
      producer,
      consumer,
      relation,
      waitMs,
      maxWaitMs: Math.max(0, consumer.startMs - producer.startMs),
      overlapped: consumer.startMs < producer.endMs,
    });
  };
  // Candidate producers of one consumer (rows) and how it refers to each; reused.
  const candidates: number[] = [];
  const relations: ('child' | 'link')[] = [];
  for (let row = 0; row < n; row++) {
    // Cheap checks before any attribute decoding: a consumer refers to some span of the trace.
    const k = kind[row];
    if (k === SpanKind.SERVER || k === SpanKind.PRODUCER) continue;
    // The span `parentSpanId` names (even where a cycle was cut there), not the effective one.
    const parent = declaredParentRow[row] as number;
    if (hasLinks[row] === 0) {
      // The common case, a span that refers to its parent only: no lists, no span object.
      if (parent < 0 || parent === row) continue;
      if (roleOf(parent) === PRODUCER && roleOf(row) === CONSUMER) add(parent, row, 'child');
      continue;
    }
    candidates.length = 0;
    relations.length = 0;
    if (parent >= 0 && parent !== row) {
      candidates.push(parent);
      relations.push('child');
    }
    const consumer = spans[row] as SpanRecord;
    for (const link of consumer.links) {
      if (link.traceId !== consumer.traceId) continue;
      const target = tree.rowOf(link.spanId);
      if (target < 0 || target === row) continue;
      if (candidates.includes(target)) continue;
      candidates.push(target);
      relations.push('link');
    }
    let anyProducer = false;
    for (const c of candidates) if (roleOf(c) === PRODUCER) anyProducer = true;
    if (!anyProducer || roleOf(row) !== CONSUMER) continue;
    for (let i = 0; i < candidates.length; i++) {
      const p = candidates[i] as number;
      if (roleOf(p) === PRODUCER) add(p, row, relations[i] as 'child' | 'link');
    }
  }
  waits.sort(
    (a, b) => a.consumer.startMs - b.consumer.startMs || a.producer.startMs - b.producer.startMs,
  );
  return waits;
}

/**
 * A getter that reads a span it cannot decode (malformed bytes make the decoder throw) as having
 * no attribute, so that one bad span does not cost the whole trace its analysis.
 */
function tolerant(getAttribute: AttributeGetter): AttributeGetter {
  return (span, key) => {
    try {
      return getAttribute(span, key);
    } catch {
      return undefined;
    }
  };
}

/** The role of an UNSPECIFIED, INTERNAL or CLIENT span, from its messaging attributes. */
function roleByAttributes(span: SpanRecord, getAttribute: AttributeGetter): Role {
  const op =
    getAttribute(span, 'messaging.operation.type') ?? getAttribute(span, 'messaging.operation');
  if (typeof op !== 'string') return NONE;
  const normalized = op.toLowerCase();
  if (PRODUCER_OPERATIONS.has(normalized)) return PRODUCER;
  if (CONSUMER_OPERATIONS.has(normalized)) return CONSUMER;
  return NONE;
}

/** The producer's destination attributes first (it chose the queue), then the consumer's. */
function queueName(
  producer: SpanRecord,
  consumer: SpanRecord,
  getAttribute: AttributeGetter,
): string {
  for (const span of [producer, consumer]) {
    for (const key of ['messaging.destination.name', 'messaging.destination']) {
      const value = getAttribute(span, key);
      if (value !== undefined && value !== '') return String(value);
    }
  }
  return producer.name;
}
