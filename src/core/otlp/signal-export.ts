/**
 * Stored log records and metric points back into protobuf export requests, from their own
 * bytes: for the persistence logs' compaction, and for exporting a trace with its logs.
 */
import { ProtoWriter } from './proto-writer.js';
import { spansToProtobuf } from './export.js';
import type { LogRecordEntry } from './logs-request-decoder.js';
import type { MetricKind, MetricPoint } from './metrics-request-decoder.js';
import type { ResourceInfo, ScopeInfo } from '../model.js';

/** An `ExportLogsServiceRequest` of `records` (the envelope is the traces' one, field for field). */
export function logsToProtobuf(records: readonly LogRecordEntry[]): Uint8Array {
  return spansToProtobuf(records);
}

/** The `Metric.data` field of each kind. */
const DATA_FIELD: Readonly<Record<MetricKind, number>> = {
  gauge: 5,
  sum: 7,
  histogram: 9,
  exponentialHistogram: 10,
};

/** Points of one metric as it was sent: the same name, unit, kind and aggregation. */
function metricIdentity(p: MetricPoint): string {
  return JSON.stringify([p.name, p.description, p.unit, p.kind, p.temporality, p.monotonic]);
}

/** An `ExportMetricsServiceRequest` of `points`, grouped back by resource, scope and metric. */
export function metricsToProtobuf(points: readonly MetricPoint[]): Uint8Array {
  const groups = new Map<ResourceInfo, Map<ScopeInfo, Map<string, MetricPoint[]>>>();
  for (const p of points) {
    let scopes = groups.get(p.resource);
    if (scopes === undefined) groups.set(p.resource, (scopes = new Map()));
    let metrics = scopes.get(p.scope);
    if (metrics === undefined) scopes.set(p.scope, (metrics = new Map()));
    const id = metricIdentity(p);
    let list = metrics.get(id);
    if (list === undefined) metrics.set(id, (list = []));
    list.push(p);
  }
  const w = new ProtoWriter();
  for (const [resource, scopes] of groups) {
    w.openMessage(1);
    if (resource.raw.length > 0) w.bytesField(1, resource.raw);
    for (const [scope, metrics] of scopes) {
      w.openMessage(2);
      if (scope.raw.length > 0) w.bytesField(1, scope.raw);
      for (const list of metrics.values()) {
        const head = list[0] as MetricPoint;
        w.openMessage(2);
        w.stringField(1, head.name);
        if (head.description !== '') w.stringField(2, head.description);
        if (head.unit !== '') w.stringField(3, head.unit);
        w.openMessage(DATA_FIELD[head.kind]);
        for (const p of list) w.bytesField(1, p.raw);
        if (head.kind !== 'gauge' && head.temporality !== 0) {
          w.tag(2, 0).uint32(head.temporality);
        }
        if (head.kind === 'sum' && head.monotonic) w.tag(3, 0).bool(true);
        w.closeMessage();
        w.closeMessage();
      }
      if (scope.schemaUrl !== '') w.stringField(3, scope.schemaUrl);
      w.closeMessage();
    }
    if (resource.schemaUrl !== '') w.stringField(3, resource.schemaUrl);
    w.closeMessage();
  }
  return w.finish();
}
