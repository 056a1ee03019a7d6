/** Small pieces shared by the diagnoses. */

import type { TraceFacts } from '../trace-facts.js';
import { stageOf, type StageKey } from '../../../shared/stage-key.js';

export { formatDuration as ms, formatShare as pct } from '../../../shared/format.js';

/** A stage as findings name it. */
export function stage(key: StageKey): { service: string; name: string } {
  return stageOf(key);
}

/** The ids of the slowest traces first, at most `n`. */
export function slowestIds(traces: readonly TraceFacts[], n = 5): string[] {
  return [...traces]
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, n)
    .map((t) => t.traceId);
}

/** Root stages are the request itself: their time is the question, not the answer. */
export function isRootStage(t: TraceFacts, key: StageKey): boolean {
  return (t.stages.get(key)?.depth ?? 1) === 0;
}

/** Attribute keys that describe an outcome (what went wrong), never a cause of it. */
export function isOutcomeKey(key: string): boolean {
  return (
    key === 'error' ||
    key.startsWith('error.') ||
    key.startsWith('exception.') ||
    key.startsWith('otel.status') ||
    key.endsWith('.status_code') ||
    key.endsWith('.status') ||
    key === 'batch.trigger' ||
    key.startsWith('gen_ai.usage.') ||
    key.startsWith('gen_ai.response.') ||
    key === 'output.size'
  );
}

/**
 * Keys that name where a span ran (an instance): a value of one of these standing out is a bad
 * instance. Any other attribute standing out is a correlation: an explanation of the latency,
 * not a broken replica.
 */
const INSTANCE_KEYS = new Set([
  'replica',
  'service.instance.id',
  'host.name',
  'host.id',
  'model.version',
  'model.device',
  'k8s.pod.name',
  'k8s.node.name',
  'container.id',
  'process.pid',
]);

export function isInstanceKey(key: string): boolean {
  return INSTANCE_KEYS.has(key) || key.endsWith('.replica') || key.endsWith('.instance.id');
}
