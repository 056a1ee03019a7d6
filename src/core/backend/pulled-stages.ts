/**
 * Production beside local runs, stage by stage: the rows the Insights view lists under
 * "Production". Each row pairs a stage's statistics over the pulled traces with the local ones
 * (`TraceEngine.pulledStats` and `TraceEngine.stats`), with the same "prod p95" text the lenses
 * show (`pulledLensText`).
 */
import type { StageStats } from '../analysis/stage-stats.js';
import { pulledLensText } from '../source/lens-text.js';
import { formatChange, formatCount, formatDuration } from '../../shared/format.js';

export interface PulledStageRow {
  readonly service: string;
  readonly name: string;
  readonly pulled: StageStats;
  /** The same stage in local runs, when it ran in the window. */
  readonly local?: StageStats;
  /** `prod p95 1.40 s · local p95 2.10 s (+50%)`, or `prod p95 1.40 s · not run locally`. */
  readonly text: string;
  readonly tooltip: string;
}

/** Rows for the pulled stages, slowest production p95 first, at most `max`. */
export function pulledStageRows(
  local: readonly StageStats[],
  pulled: readonly StageStats[],
  max = 25,
): PulledStageRow[] {
  const byKey = new Map(local.map((s) => [s.key, s]));
  return [...pulled]
    .sort((a, b) => b.p95Ms - a.p95Ms || a.key.localeCompare(b.key))
    .slice(0, max)
    .map((p) => {
      const l = byKey.get(p.key);
      const prodText = pulledLensText(p);
      const localText =
        l === undefined
          ? 'not run locally'
          : `local p95 ${formatDuration(l.p95Ms)}` +
            (p.p95Ms > 0 ? ` (${formatChange((l.p95Ms - p.p95Ms) / p.p95Ms)})` : '');
      const tooltip =
        `${p.service} / ${p.name}: p95 ${formatDuration(p.p95Ms)} over ` +
        `${formatCount(p.count, 'span')} pulled from the team backend` +
        (l === undefined
          ? '; no local span of it in the window'
          : `; p95 ${formatDuration(l.p95Ms)} over ${formatCount(l.count, 'local span')}`);
      return {
        service: p.service,
        name: p.name,
        pulled: p,
        ...(l === undefined ? {} : { local: l }),
        text: `${prodText} · ${localText}`,
        tooltip,
      };
    });
}
