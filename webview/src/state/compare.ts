/**
 * Compare: the shown trace against the typical trace of its operation, the baseline, or another
 * trace, stage by stage (the host computes it: `core/analysis/compare.ts`). The choice stays
 * while traces change: a newly shown trace is compared the same way, so following live keeps
 * the diff up to date.
 *
 * Invariant: `rowDelta`, when set, has one entry per row of `model`: the stage's change on the
 * critical path at the first row of each stage that changed, NaN elsewhere (a stage's delta is
 * about the stage, not each of its spans, so it is drawn once).
 */

import type {
  CompareRequest,
  CompareResponse,
  ComparisonPayload,
} from '../../../src/protocol/messages.js';
import { stageKey } from '../../../src/shared/stage-key.js';
import { nameOf, serviceOf, type TraceModel } from '../model/trace-model.js';
import { withEffect, type ViewState } from './view-state.js';

export type CompareAgainst = CompareRequest['against'];

export type CompareView =
  | { readonly kind: 'off' }
  | {
      readonly kind: 'loading' | 'shown' | 'failed';
      readonly against: CompareAgainst;
      /** The "before" trace when comparing with another trace. */
      readonly otherTraceId?: string;
      /** Trace compared and request: a new key is a new request. */
      readonly key: string;
      readonly comparison?: ComparisonPayload;
      readonly rowDelta?: Float64Array;
      readonly error?: string;
    };

export const COMPARE_OFF: CompareView = { kind: 'off' };

const TRACE_ID = /^[0-9a-f]{32}$/;

/** Below this a stage is not marked as changed in the waterfall (the table lists it still). */
export function deltaThresholdMs(durationMs: number): number {
  return Math.max(1, 0.02 * durationMs);
}

/** The per-row marks of a comparison over a model (see the invariant above). */
export function rowDeltas(model: TraceModel, c: ComparisonPayload): Float64Array {
  const byStage = new Map<string, number>();
  const min = deltaThresholdMs(Math.max(c.before.durationMs, c.after.durationMs));
  for (const r of c.rows) {
    if (r.status !== 'vanished' && Math.abs(r.deltaMs) >= min) {
      byStage.set(stageKey(r.service, r.name), r.deltaMs);
    }
  }
  const out = new Float64Array(model.rowCount).fill(Number.NaN);
  if (byStage.size === 0) return out;
  for (let row = 0; row < model.rowCount; row++) {
    const key = stageKey(serviceOf(model, row), nameOf(model, row));
    const d = byStage.get(key);
    if (d === undefined) continue;
    out[row] = d;
    byStage.delete(key);
    if (byStage.size === 0) break;
  }
  return out;
}

function requestKey(traceId: string, against: CompareAgainst, other?: string): string {
  return `${traceId}\u0000${against}\u0000${other ?? ''}`;
}

/** The user chose what to compare with (`off` ends comparing). */
export function compareWith(
  s: ViewState,
  against: CompareAgainst | 'off',
  otherTraceId?: string,
): ViewState {
  if (against === 'off') return s.compare.kind === 'off' ? s : { ...s, compare: COMPARE_OFF };
  if (against === 'trace' && (otherTraceId === undefined || !TRACE_ID.test(otherTraceId))) {
    return s;
  }
  return requestFor(s, against, against === 'trace' ? otherTraceId : undefined);
}

function requestFor(s: ViewState, against: CompareAgainst, otherTraceId?: string): ViewState {
  const traceId = s.model?.payload.traceId;
  const base = { against, ...(otherTraceId !== undefined ? { otherTraceId } : {}) };
  if (traceId === undefined) {
    return { ...s, compare: { kind: 'failed', ...base, key: '', error: 'No trace is shown.' } };
  }
  if (otherTraceId === traceId) {
    return {
      ...s,
      compare: {
        kind: 'failed',
        ...base,
        key: '',
        error: 'That is the trace shown: pick another one to compare with.',
      },
    };
  }
  const key = requestKey(traceId, against, otherTraceId);
  return withEffect(
    { ...s, compare: { kind: 'loading', ...base, key } },
    { type: 'requestCompare', key, traceId, against, ...(otherTraceId ? { otherTraceId } : {}) },
  );
}

/** The host's answer; an answer to an older request is dropped. */
export function compareResult(s: ViewState, key: string, r: CompareResponse): ViewState {
  const c = s.compare;
  if (c.kind === 'off' || c.key !== key) return s;
  if (r.comparison === null || s.model === null) {
    return {
      ...s,
      compare: {
        kind: 'failed',
        against: c.against,
        ...(c.otherTraceId !== undefined ? { otherTraceId: c.otherTraceId } : {}),
        key,
        error: r.error ?? 'No comparison.',
      },
    };
  }
  return {
    ...s,
    compare: {
      kind: 'shown',
      against: c.against,
      ...(c.otherTraceId !== undefined ? { otherTraceId: c.otherTraceId } : {}),
      key,
      comparison: r.comparison,
      rowDelta: rowDeltas(s.model, r.comparison),
    },
  };
}

/**
 * After the shown trace changed: another trace is compared the same way (a new request); the
 * same trace grown keeps its comparison, re-marked over the new rows.
 */
export function afterTraceChange(prev: ViewState, next: ViewState): ViewState {
  const c = next.compare;
  if (c.kind === 'off' || next.model === null || next.model === prev.model) return next;
  const sameTrace = prev.model?.payload.traceId === next.model.payload.traceId;
  if (sameTrace && c.kind === 'shown' && c.comparison !== undefined) {
    return { ...next, compare: { ...c, rowDelta: rowDeltas(next.model, c.comparison) } };
  }
  if (sameTrace) return next;
  return requestFor(next, c.against, c.otherTraceId);
}
