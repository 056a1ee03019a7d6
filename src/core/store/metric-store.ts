/**
 * Received metric points, by series (service, metric name, attribute set), in arrival order,
 * bounded in bytes and in points (the oldest go first). What a viewer asks of it: the metrics
 * there are (names, kinds, units, per service), and a metric's points in a time range, for the
 * strip above a trace's waterfall; exemplars lead from a point to its trace.
 */
import type { KeyValueJson } from '../model.js';
import type { MetricKind, MetricPoint } from '../otlp/metrics-request-decoder.js';

export interface MetricStoreOptions {
  maxBytes: number;
  maxPoints: number;
}

export const DEFAULT_METRIC_STORE_OPTIONS: MetricStoreOptions = {
  maxBytes: 32 * 1024 * 1024,
  maxPoints: 200_000,
};

/** A series' entry: the map entry, its key string and array. */
const SERIES_BYTES = 160;

export interface MetricSeries {
  readonly key: string;
  readonly service: string;
  readonly name: string;
  readonly unit: string;
  readonly kind: MetricKind;
  readonly attributes: readonly KeyValueJson[];
  /** Oldest first. */
  readonly points: MetricPoint[];
}

/** What the store holds of one metric name. */
export interface MetricSummary {
  service: string;
  name: string;
  unit: string;
  kind: MetricKind;
  description: string;
  series: number;
  points: number;
  lastTimeMs: number;
}

export interface MetricQuery {
  name?: string;
  service?: string;
  sinceMs?: number;
  untilMs?: number;
}

/** A series key: service, name and the attributes in key order (their order on the wire varies). */
export function seriesKey(p: MetricPoint): string {
  const attrs = [...p.attributes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return JSON.stringify([p.service, p.name, attrs]);
}

export class MetricStore {
  private readonly opts: MetricStoreOptions;
  private readonly series = new Map<string, MetricSeries>();
  /** Arrival order of (series, point) for eviction; [head, length) live. */
  private order: MetricSeries[] = [];
  private head = 0;
  private heldBytes = 0;
  evicted = 0;
  /** Grows with every change (points added, evicted, cleared): a view redraws when it moved. */
  version = 0;

  constructor(opts: Partial<MetricStoreOptions> = {}) {
    this.opts = { ...DEFAULT_METRIC_STORE_OPTIONS, ...opts };
    if (!(this.opts.maxBytes > 0) || !(this.opts.maxPoints > 0)) {
      throw new RangeError('MetricStore limits must be positive');
    }
  }

  get count(): number {
    return this.order.length - this.head;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      const key = seriesKey(p);
      let s = this.series.get(key);
      if (s === undefined) {
        s = {
          key,
          service: p.service,
          name: p.name,
          unit: p.unit,
          kind: p.kind,
          attributes: p.attributes,
          points: [],
        };
        this.series.set(key, s);
        this.heldBytes += SERIES_BYTES + key.length * 2;
      }
      s.points.push(p);
      this.order.push(s);
      this.heldBytes += p.bytes;
    }
    if (points.length > 0) this.version++;
    this.evictTo(this.opts.maxBytes, this.opts.maxPoints);
  }

  /** Drops the oldest points until at most `maxBytes` and `maxPoints` are held. */
  evictTo(maxBytes: number, maxPoints = this.opts.maxPoints): void {
    while (this.count > 0 && (this.heldBytes > maxBytes || this.count > maxPoints)) {
      const s = this.order[this.head] as MetricSeries;
      this.order[this.head] = undefined as unknown as MetricSeries;
      this.head++;
      // A series' oldest point is the first of its list: both are in arrival order.
      const p = s.points.shift() as MetricPoint;
      this.heldBytes -= p.bytes;
      this.evicted++;
      this.version++;
      if (s.points.length === 0) {
        this.series.delete(s.key);
        this.heldBytes -= SERIES_BYTES + s.key.length * 2;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** Every point held, oldest first (series by series in arrival order of their points). */
  *items(): Iterable<MetricPoint> {
    // Each series' points are in arrival order; the order list names the series of each point.
    const next = new Map<MetricSeries, number>();
    for (let i = this.head; i < this.order.length; i++) {
      const s = this.order[i] as MetricSeries;
      const k = next.get(s) ?? 0;
      next.set(s, k + 1);
      yield s.points[k] as MetricPoint;
    }
  }

  /** One row per (service, metric name). */
  list(): MetricSummary[] {
    const rows = new Map<string, MetricSummary>();
    for (const s of this.series.values()) {
      const id = `${s.service}\u0000${s.name}`;
      const last = s.points[s.points.length - 1] as MetricPoint;
      const row = rows.get(id);
      if (row === undefined) {
        rows.set(id, {
          service: s.service,
          name: s.name,
          unit: s.unit,
          kind: s.kind,
          description: last.description,
          series: 1,
          points: s.points.length,
          lastTimeMs: last.timeMs,
        });
      } else {
        row.series++;
        row.points += s.points.length;
        row.lastTimeMs = Math.max(row.lastTimeMs, last.timeMs);
      }
    }
    return [...rows.values()].sort(
      (a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name),
    );
  }

  /** The series matching `q`, each with its points in [sinceMs, untilMs], by time. */
  query(q: MetricQuery = {}): { series: MetricSeries; points: MetricPoint[] }[] {
    const out: { series: MetricSeries; points: MetricPoint[] }[] = [];
    for (const s of this.series.values()) {
      if (q.name !== undefined && s.name !== q.name) continue;
      if (q.service !== undefined && s.service !== q.service) continue;
      const points = s.points
        .filter(
          (p) =>
            (q.sinceMs === undefined || p.timeMs >= q.sinceMs) &&
            (q.untilMs === undefined || p.timeMs <= q.untilMs),
        )
        .sort((a, b) => a.timeMs - b.timeMs);
      if (points.length > 0) out.push({ series: s, points });
    }
    return out;
  }

  clear(): void {
    this.version++;
    this.series.clear();
    this.order = [];
    this.head = 0;
    this.heldBytes = 0;
  }
}
