// Reference for analysis-columnar.test.ts, what the rewrite must equal:
// src/core/analysis/queue-waits.ts as of 7f90976 (before the columnar rewrite),
// unchanged but for its imports.
/**
 * Queue waits: how long a message sat between the span that produced it and the span that
 * consumed it. Only messaging is considered (PRODUCER -> CONSUMER, or spans whose `messaging.*`
 * attributes say so); CLIENT -> SERVER gaps are network and scheduling time, not queueing.
 */

import { SpanKind, type SpanRecord } from '../../../../src/core/model.js';
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

type Role = 'producer' | 'consumer' | 'none';

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
 */
export function findQueueWaits(tree: TraceTree, getAttribute: AttributeGetter): QueueWait[] {
  const attr = tolerant(getAttribute);
  const roles = new Map<SpanRecord, Role>();
  const roleOf = (span: SpanRecord): Role => {
    let role = roles.get(span);
    if (role === undefined) {
      role = classify(span, attr);
      roles.set(span, role);
    }
    return role;
  };

  const waits: QueueWait[] = [];
  for (const consumer of tree.spans) {
    // Cheap checks before any attribute decoding: a consumer refers to some span of the trace.
    if (consumer.kind === SpanKind.SERVER || consumer.kind === SpanKind.PRODUCER) continue;
    const candidates: { producer: SpanRecord; relation: 'child' | 'link' }[] = [];
    const parent = consumer.parentSpanId === '' ? undefined : tree.byId.get(consumer.parentSpanId);
    if (parent !== undefined && parent !== consumer) {
      candidates.push({ producer: parent, relation: 'child' });
    }
    for (const link of consumer.links) {
      if (link.traceId !== consumer.traceId) continue;
      const target = tree.byId.get(link.spanId);
      if (target === undefined || target === consumer) continue;
      if (candidates.some((c) => c.producer === target)) continue;
      candidates.push({ producer: target, relation: 'link' });
    }
    if (candidates.length === 0) continue;
    if (roleOf(consumer) !== 'consumer') continue;
    for (const { producer, relation } of candidates) {
      if (roleOf(producer) !== 'producer') continue;
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

function classify(span: SpanRecord, getAttribute: AttributeGetter): Role {
  switch (span.kind) {
    case SpanKind.PRODUCER:
      return 'producer';
    case SpanKind.CONSUMER:
      return 'consumer';
    case SpanKind.SERVER:
      return 'none';
  }
  const op =
    getAttribute(span, 'messaging.operation.type') ?? getAttribute(span, 'messaging.operation');
  if (typeof op !== 'string') return 'none';
  const normalized = op.toLowerCase();
  if (PRODUCER_OPERATIONS.has(normalized)) return 'producer';
  if (CONSUMER_OPERATIONS.has(normalized)) return 'consumer';
  return 'none';
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
