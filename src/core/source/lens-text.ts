/**
 * The text of latency lenses and hovers, from stage statistics. Pure formatting: no editor API,
 * so the exact strings are unit-tested.
 */

import type { StageStats } from '../analysis/stage-stats.js';
import { formatCount, formatDuration, formatPercent } from '../../shared/format.js';
import { PULLED_LABEL } from '../backend/origin.js';

/** Statistics a lens can show, in the order they are shown. */
export const LENS_STATISTICS = [
  'p50',
  'p95',
  'p99',
  'mean',
  'max',
  'critical',
  'share',
  'count',
  'errors',
] as const;

export type LensStatistic = (typeof LENS_STATISTICS)[number];

export const DEFAULT_LENS_STATISTICS: readonly LensStatistic[] = [
  'p50',
  'p95',
  'share',
  'count',
  'errors',
];

/** Keeps the known statistic names of a user setting, in display order; defaults when none. */
export function parseLensStatistics(setting: unknown): readonly LensStatistic[] {
  if (!Array.isArray(setting)) return DEFAULT_LENS_STATISTICS;
  const wanted = new Set(setting.filter((s): s is string => typeof s === 'string'));
  const out = LENS_STATISTICS.filter((s) => wanted.has(s));
  return out.length > 0 || setting.length === 0 ? out : DEFAULT_LENS_STATISTICS;
}

export { formatDuration, formatPercent } from '../../shared/format.js';

export interface LensTextOptions {
  readonly statistics?: readonly LensStatistic[];
}

/**
 * Whether a stage is the root of the traces it runs in: its share of the critical path is then
 * the whole request, which says nothing.
 */
export function isRootStage(stats: StageStats): boolean {
  return stats.traceCount > 0 && stats.rootTraceCount * 2 >= stats.traceCount;
}

/**
 * "X% of the critical path": the one name of the one number (`StageStats.criticalPathShare`)
 * that the lens, its hover and the insights show; undefined for root stages and before a
 * trace settled.
 */
export function criticalShareText(stats: StageStats): string | undefined {
  if (stats.traceCount === 0 || isRootStage(stats)) return undefined;
  return `${formatPercent(100 * stats.criticalPathShare)} of the critical path`;
}

/**
 * The lens title, e.g.
 * `reranking  p50 1.21 s · p95 1.40 s · 52% of the critical path · n=120 · 2 errors`.
 * A statistic with nothing to say (no errors, no settled trace yet, a root's share) is left out.
 */
export function lensText(stats: StageStats, opts: LensTextOptions = {}): string {
  const parts: string[] = [];
  for (const s of opts.statistics ?? DEFAULT_LENS_STATISTICS) {
    switch (s) {
      case 'p50':
        parts.push(`p50 ${formatDuration(stats.p50Ms)}`);
        break;
      case 'p95':
        parts.push(`p95 ${formatDuration(stats.p95Ms)}`);
        break;
      case 'p99':
        parts.push(`p99 ${formatDuration(stats.p99Ms)}`);
        break;
      case 'mean':
        parts.push(`mean ${formatDuration(stats.meanMs)}`);
        break;
      case 'max':
        parts.push(`max ${formatDuration(stats.maxMs)}`);
        break;
      case 'critical':
        if (stats.traceCount > 0 && !isRootStage(stats)) {
          parts.push(`critical in ${formatPercent(stats.criticalInPct)}`);
        }
        break;
      case 'share': {
        const text = criticalShareText(stats);
        if (text !== undefined) parts.push(text);
        break;
      }
      case 'count':
        parts.push(`n=${stats.count}`);
        break;
      case 'errors':
        if (stats.errorCount > 0) {
          parts.push(formatCount(stats.errorCount, 'error'));
        }
        break;
    }
  }
  return parts.length === 0 ? stats.name : `${stats.name}  ${parts.join(' · ')}`;
}

/**
 * The production figure beside a local lens: `prod p95 1.40 s`, the stage's p95 over the traces
 * pulled from the team backend (`TraceEngine.pulledStats`).
 */
export function pulledLensText(pulled: StageStats): string {
  return `${PULLED_LABEL} p95 ${formatDuration(pulled.p95Ms)}`;
}

/** Its hover line: what the figure is and over what. */
export function pulledTooltipLine(pulled: StageStats): string {
  return (
    `${pulledLensText(pulled)}: 95th percentile duration of the ` +
    `${formatCount(pulled.count, 'span')} pulled from the team backend (the last day's pulls)`
  );
}

export interface LensTooltipOptions extends LensTextOptions {
  /** The statistics window, minutes (`stagelight.lenses.windowMinutes`). */
  readonly windowMinutes: number;
}

/**
 * The lens's hover text (`Command.tooltip`, plain text): what each figure in its title is, over
 * which spans and traces, and what a click does. One line per statistic the title shows, in
 * the same order, left out where the title leaves it out.
 */
export function lensTooltip(stats: StageStats, opts: LensTooltipOptions): string {
  const over = `${formatCount(stats.count, 'span')} in ${formatCount(stats.traceCount, 'trace')}`;
  const lines = [`${stats.service} / ${stats.name}, the last ${opts.windowMinutes} min:`];
  const quantile = (label: string, what: string, ms: number) =>
    lines.push(`${label} ${formatDuration(ms)}: ${what} duration of the ${over}`);
  for (const s of opts.statistics ?? DEFAULT_LENS_STATISTICS) {
    switch (s) {
      case 'p50':
        quantile('p50', 'median', stats.p50Ms);
        break;
      case 'p95':
        quantile('p95', '95th percentile', stats.p95Ms);
        break;
      case 'p99':
        quantile('p99', '99th percentile', stats.p99Ms);
        break;
      case 'mean':
        quantile('mean', 'mean', stats.meanMs);
        break;
      case 'max':
        quantile('max', 'longest', stats.maxMs);
        break;
      case 'critical':
        if (stats.traceCount > 0 && !isRootStage(stats)) {
          lines.push(
            `critical in ${formatPercent(stats.criticalInPct)}: share of the ` +
              `${formatCount(stats.traceCount, 'trace')} in which it is on the critical path`,
          );
        }
        break;
      case 'share': {
        const text = criticalShareText(stats);
        if (text !== undefined) {
          lines.push(
            `${text}: its mean share of the critical path (the time the request waited on it) ` +
              `over the ${formatCount(stats.traceCount, 'trace')}`,
          );
        }
        break;
      }
      case 'count':
        lines.push(`n=${stats.count}: spans of the stage in the window`);
        break;
      case 'errors':
        if (stats.errorCount > 0) {
          lines.push(`${formatCount(stats.errorCount, 'error')}: spans with an error status`);
        }
        break;
    }
  }
  lines.push('Click to open the slowest recent trace with this span.');
  return lines.join('\n');
}

/** One bin of a latency histogram: [loMs, hiMs). */
export interface HistogramBin {
  readonly loMs: number;
  readonly hiMs: number;
  readonly count: number;
}

/**
 * Bins durations: linear bins, or logarithmic ones when the spread is wide (max > 20 × min),
 * so a long tail does not squash the body into one bin.
 */
export function histogram(durations: readonly number[], bins = 8): HistogramBin[] {
  const values = durations.filter((d) => Number.isFinite(d) && d >= 0);
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) return [{ loMs: min, hiMs: max, count: values.length }];
  const log = min > 0 && max / min > 20;
  const lo = log ? Math.log(min) : min;
  const hi = log ? Math.log(max) : max;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const x = log ? Math.log(v) : v;
    counts[Math.min(bins - 1, Math.floor((x - lo) / width))]!++;
  }
  const edge = (i: number): number => (log ? Math.exp(lo + i * width) : lo + i * width);
  return counts.map((count, i) => ({
    loMs: edge(i),
    hiMs: i === bins - 1 ? max : edge(i + 1),
    count,
  }));
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A histogram as monospace text lines: `1.10 s – 1.20 s  ████▌      12`. */
export function histogramText(bins: readonly HistogramBin[], barWidth = 24): string[] {
  const peak = Math.max(1, ...bins.map((b) => b.count));
  const labels = bins.map((b) => `${formatDuration(b.loMs)} – ${formatDuration(b.hiMs)}`);
  const labelWidth = Math.max(0, ...labels.map((l) => l.length));
  return bins.map((b, i) => {
    const eighths = Math.round((b.count / peak) * barWidth * 8);
    const bar = '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
    return `${labels[i]!.padEnd(labelWidth)}  ${bar.padEnd(barWidth)} ${b.count}`;
  });
}
