/**
 * The per-stage table printed at the end of a run: for each stage (service, span name) of the
 * run's traces, the span count, p50/p95 duration, mean share of the critical path, errors and
 * the devices its model spans ran on. Computed from the core's store and trace analysis.
 */
import type { TraceEngine } from '../src/core/engine.js';
import { attributeValue } from '../src/core/otlp/span-details.js';
import { stageKey } from '../src/core/analysis/stage-stats.js';

export interface StageRow {
  readonly service: string;
  readonly name: string;
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Mean share of the end-to-end critical path over the traces with this stage, in [0, 1]. */
  readonly criticalShare: number;
  readonly errors: number;
  /** Distinct `model.device` values (empty for stages that run no model). */
  readonly devices: string[];
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function stageTable(engine: TraceEngine, traceIds: readonly string[]): StageRow[] {
  interface Acc {
    service: string;
    name: string;
    durations: number[];
    offsets: number[];
    errors: number;
    devices: Set<string>;
    shareSum: number;
    traces: number;
  }
  const acc = new Map<string, Acc>();
  for (const id of traceIds) {
    const entry = engine.store.get(id);
    const analysis = engine.analyze(id);
    if (entry === undefined || analysis === undefined) continue;
    // Offsets from the trace's first span order the table in pipeline order.
    const start = Math.min(...entry.spans.map((s) => s.startMs));
    const seen = new Set<string>();
    for (const span of entry.spans) {
      const key = stageKey(span.serviceName, span.name);
      let a = acc.get(key);
      if (a === undefined) {
        a = {
          service: span.serviceName,
          name: span.name,
          durations: [],
          offsets: [],
          errors: 0,
          devices: new Set(),
          shareSum: 0,
          traces: 0,
        };
        acc.set(key, a);
      }
      a.durations.push(span.durationMs);
      a.offsets.push(span.startMs - start);
      if (span.isError) a.errors++;
      const device = attributeValue(span, 'model.device');
      if (typeof device === 'string') a.devices.add(device);
      if (!seen.has(key)) {
        seen.add(key);
        a.traces++;
        a.shareSum += analysis.stageContributions.get(key)?.share ?? 0;
      }
    }
  }
  return [...acc.values()]
    .map((a) => {
      const sorted = [...a.durations].sort((x, y) => x - y);
      const offsets = [...a.offsets].sort((x, y) => x - y);
      return {
        row: {
          service: a.service,
          name: a.name,
          count: sorted.length,
          p50Ms: quantile(sorted, 0.5),
          p95Ms: quantile(sorted, 0.95),
          criticalShare: a.traces === 0 ? 0 : a.shareSum / a.traces,
          errors: a.errors,
          devices: [...a.devices].sort(),
        },
        order: quantile(offsets, 0.5),
      };
    })
    .sort((x, y) => x.order - y.order || x.row.service.localeCompare(y.row.service))
    .map((x) => x.row);
}

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 2 : 1)} ms`;
}

/** A fixed-width text table. */
export function formatStageTable(rows: readonly StageRow[]): string {
  const header = ['service', 'stage', 'n', 'p50', 'p95', 'critical path', 'errors', 'device'];
  const body = rows.map((r) => [
    r.service,
    r.name,
    String(r.count),
    ms(r.p50Ms),
    ms(r.p95Ms),
    `${(100 * r.criticalShare).toFixed(1)}%`,
    String(r.errors),
    r.devices.join(',') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
