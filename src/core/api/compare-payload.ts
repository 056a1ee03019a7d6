/**
 * The waterfall's Compare request answered from the engine (`engine.compare`), in the
 * protocol's shape: the open trace against the typical trace of its operation, the baseline, the
 * traces pulled from the team backend, or another trace. What is missing (no baseline yet, a trace evicted) comes back as the error
 * the side panel shows, never as a throw.
 */

import type { Comparison } from '../analysis/compare.js';
import type { CompareRequest, ComparisonPayload } from '../../protocol/messages.js';

/** What answers a compare request. */
export interface CompareSource {
  compare(q: {
    a?: string;
    b?: string;
    trace?: string;
    against?: 'typical' | 'baseline' | 'prod';
  }): Comparison;
}

export function comparisonPayload(c: Comparison): ComparisonPayload {
  return {
    before: { ...c.before },
    after: { ...c.after },
    deltaMs: c.deltaMs,
    rows: c.rows.map((r) => ({
      service: r.service,
      name: r.name,
      depth: r.depth,
      ...(r.beforeMs !== undefined ? { beforeMs: r.beforeMs } : {}),
      ...(r.afterMs !== undefined ? { afterMs: r.afterMs } : {}),
      deltaMs: r.deltaMs,
      beforeSpans: r.beforeSpans,
      afterSpans: r.afterSpans,
      status: r.status,
    })),
  };
}

/** The answer to `req` (`engine` absent: the receiver is stopped). */
export function answerCompare(
  engine: CompareSource | undefined,
  req: Pick<CompareRequest, 'traceId' | 'against' | 'otherTraceId'>,
): { comparison: ComparisonPayload | null; error?: string } {
  if (engine === undefined) {
    return { comparison: null, error: 'The receiver is stopped: start it to compare traces.' };
  }
  try {
    const c =
      req.against === 'trace'
        ? engine.compare({ a: req.otherTraceId, b: req.traceId })
        : engine.compare({ trace: req.traceId, against: req.against });
    if (req.against === 'typical' && c.before.traces === 0) {
      return {
        comparison: null,
        error: 'No other trace of this operation yet: nothing typical to compare with.',
      };
    }
    return { comparison: comparisonPayload(c) };
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const message = e.message.charAt(0).toUpperCase() + e.message.slice(1);
    return { comparison: null, error: `${message}.` };
  }
}
