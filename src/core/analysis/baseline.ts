/**
 * Baselines: a set of traces taken as "how it normally runs", against which the diagnoses
 * measure a change. Pinned by the user, per git commit by the editor, from the demo's normal
 * warm-up, or taken automatically from the last run that raised no finding.
 *
 * A baseline keeps per-trace rows (end-to-end time and each stage's critical-path time), so that
 * a significance test can compare distributions, not just two medians; per-stage summaries for
 * display; the waits per queue and per remote call; and the commonest attribute values per
 * stage, so that a regression can say which attribute moved with it. It is plain JSON, small
 * (at most {@link MAX_BASELINE_ROWS} rows), and survives reloads in the data folder.
 */

import { quantile, median } from './statistics.js';
import type { TraceFacts } from './trace-facts.js';
import { stageOf, type StageKey } from '../../shared/stage-key.js';

export const BASELINE_VERSION = 2;
/** Most traces a baseline keeps rows for (the latest). */
export const MAX_BASELINE_ROWS = 256;
/** Most values kept per attribute key and stage. */
const MAX_VALUES = 8;
/** Most attribute keys kept per stage. */
const MAX_KEYS = 24;

/** `pulled`: the traces pulled from a team backend, built on demand for "against prod". */
export type BaselineSource = 'pinned' | 'commit' | 'warm-up' | 'last-normal-run' | 'pulled';

export interface BaselineStage {
  readonly key: StageKey;
  readonly service: string;
  readonly name: string;
  /** Traces of the baseline containing the stage. */
  readonly count: number;
  /** Per trace: summed span duration, p50 and p95 (what a lens shows). */
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Per trace: critical-path time in the stage, median. */
  readonly pathP50Ms: number;
  /** Attribute key -> value -> spans with it. */
  readonly attributes: Record<string, Record<string, number>>;
}

export interface Baseline {
  readonly version: typeof BASELINE_VERSION;
  readonly label: string;
  readonly source: BaselineSource;
  readonly pinnedAt: number;
  /** Traces the baseline was made of (the latest {@link MAX_BASELINE_ROWS}). */
  readonly traceIds: readonly string[];
  readonly operations: readonly StageKey[];
  readonly stageKeys: readonly StageKey[];
  /** One row per trace: its operation (index), duration and each stage's path time. */
  readonly rows: ReadonlyArray<{
    readonly op: number;
    readonly durationMs: number;
    /** Aligned with `stageKeys`; 0 where the trace has no such stage. */
    readonly pathMs: readonly number[];
  }>;
  readonly stages: readonly BaselineStage[];
  /** Queue -> median wait per trace that used it. */
  readonly queues: Readonly<Record<string, number>>;
  /** `caller stage\ncallee service` -> median wait around the call per trace that made it. */
  readonly calls: Readonly<Record<string, number>>;
}

export function callKey(callerStage: StageKey, calleeService: string): string {
  return `${callerStage}\n${calleeService}`;
}

/** Builds a baseline from analysed traces (the latest {@link MAX_BASELINE_ROWS} are kept). */
export function makeBaseline(
  traces: readonly TraceFacts[],
  label: string,
  source: BaselineSource,
  now = Date.now(),
): Baseline {
  const kept = [...traces].sort((a, b) => a.receivedAt - b.receivedAt).slice(-MAX_BASELINE_ROWS);
  const operations: StageKey[] = [];
  const opIndex = new Map<StageKey, number>();
  const stageKeys: StageKey[] = [];
  const stageIndex = new Map<StageKey, number>();
  for (const t of kept) {
    if (!opIndex.has(t.operation)) {
      opIndex.set(t.operation, operations.length);
      operations.push(t.operation);
    }
    for (const key of t.stages.keys()) {
      if (!stageIndex.has(key)) {
        stageIndex.set(key, stageKeys.length);
        stageKeys.push(key);
      }
    }
  }
  const rows = kept.map((t) => {
    const pathMs = new Array<number>(stageKeys.length).fill(0);
    for (const [key, st] of t.stages) pathMs[stageIndex.get(key)!] = st.pathMs;
    return { op: opIndex.get(t.operation)!, durationMs: t.durationMs, pathMs };
  });

  const stages: BaselineStage[] = stageKeys.map((key) => {
    const totals: number[] = [];
    const paths: number[] = [];
    const attributes: Record<string, Record<string, number>> = {};
    let keys = 0;
    for (const t of kept) {
      const st = t.stages.get(key);
      if (st === undefined) continue;
      totals.push(st.totalMs);
      paths.push(st.pathMs);
      for (let i = 0; i < t.spans.length; i++) {
        if (t.stageOf[i] !== key) continue;
        const a = t.attrs[i];
        if (a === undefined) continue;
        for (let j = 0; j < a.length; j += 2) {
          const k = a[j]!;
          const v = a[j + 1]!;
          let values = attributes[k];
          if (values === undefined) {
            if (keys >= MAX_KEYS) continue;
            keys++;
            attributes[k] = values = {};
          }
          if (values[v] === undefined && Object.keys(values).length >= MAX_VALUES) continue;
          values[v] = (values[v] ?? 0) + 1;
        }
      }
    }
    const { service, name } = stageOf(key);
    return {
      key,
      service,
      name,
      count: totals.length,
      p50Ms: median(totals),
      p95Ms: quantile(totals, 0.95),
      pathP50Ms: median(paths),
      attributes,
    };
  });

  const queueWaits = new Map<string, number[]>();
  const callWaits = new Map<string, number[]>();
  for (const t of kept) {
    for (const [q, ms] of t.queueWaits) push(queueWaits, q, ms);
    const perCall = new Map<string, number>();
    for (const c of t.calls) {
      const k = callKey(c.callerStage, c.calleeService);
      perCall.set(k, (perCall.get(k) ?? 0) + c.beforeOnPathMs + c.afterOnPathMs);
    }
    for (const [k, ms] of perCall) push(callWaits, k, ms);
  }
  return {
    version: BASELINE_VERSION,
    label,
    source,
    pinnedAt: now,
    traceIds: kept.map((t) => t.traceId),
    operations,
    stageKeys,
    rows,
    stages,
    queues: Object.fromEntries([...queueWaits].map(([q, v]) => [q, median(v)])),
    calls: Object.fromEntries([...callWaits].map(([k, v]) => [k, median(v)])),
  };
}

function push<K>(m: Map<K, number[]>, k: K, v: number): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

/** The baseline's rows of one operation: durations, and a stage's path time per row. */
export function baselineRows(
  b: Baseline,
  operation: StageKey,
): { durations: number[]; pathOf(stage: StageKey): number[] } {
  const op = b.operations.indexOf(operation);
  const rows = op < 0 ? [] : b.rows.filter((r) => r.op === op);
  return {
    durations: rows.map((r) => r.durationMs),
    pathOf: (stage) => {
      const i = b.stageKeys.indexOf(stage);
      return rows.map((r) => (i < 0 ? 0 : (r.pathMs[i] ?? 0)));
    },
  };
}

/** The baseline's summary of a stage, if it has one. */
export function baselineStage(b: Baseline, key: StageKey): BaselineStage | undefined {
  return b.stages.find((s) => s.key === key);
}

/**
 * Validates a baseline read from disk or from the editor's state; anything else (an older
 * format, a hand-edited file) is refused with the reason, and the caller starts without one.
 */
export function parseBaseline(v: unknown): { baseline?: Baseline; error?: string } {
  if (typeof v !== 'object' || v === null) return { error: 'not an object' };
  const b = v as Record<string, unknown>;
  if (b.version !== BASELINE_VERSION)
    return { error: `version ${String(b.version)} is not ${BASELINE_VERSION}` };
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (typeof b.label !== 'string' || typeof b.pinnedAt !== 'number')
    return { error: 'no label or pinnedAt' };
  if (!['pinned', 'commit', 'warm-up', 'last-normal-run'].includes(b.source as string)) {
    return { error: 'unknown source' };
  }
  if (!strings(b.traceIds) || !strings(b.operations) || !strings(b.stageKeys)) {
    return { error: 'bad id lists' };
  }
  const width = (b.stageKeys as string[]).length;
  const ops = (b.operations as string[]).length;
  if (
    !Array.isArray(b.rows) ||
    !b.rows.every((r: unknown) => {
      const row = r as Record<string, unknown>;
      return (
        typeof row === 'object' &&
        row !== null &&
        Number.isInteger(row.op) &&
        (row.op as number) >= 0 &&
        (row.op as number) < ops &&
        typeof row.durationMs === 'number' &&
        Array.isArray(row.pathMs) &&
        row.pathMs.length === width &&
        row.pathMs.every((x: unknown) => typeof x === 'number' && Number.isFinite(x))
      );
    })
  ) {
    return { error: 'bad rows' };
  }
  if (
    !Array.isArray(b.stages) ||
    !b.stages.every((s: unknown) => {
      const st = s as Record<string, unknown>;
      return (
        typeof st === 'object' &&
        st !== null &&
        typeof st.key === 'string' &&
        typeof st.service === 'string' &&
        typeof st.name === 'string' &&
        typeof st.p95Ms === 'number' &&
        typeof st.p50Ms === 'number' &&
        typeof st.attributes === 'object'
      );
    })
  ) {
    return { error: 'bad stages' };
  }
  if (typeof b.queues !== 'object' || b.queues === null) return { error: 'bad queues' };
  if (typeof b.calls !== 'object' || b.calls === null) return { error: 'bad calls' };
  return { baseline: v as Baseline };
}
