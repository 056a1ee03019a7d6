/**
 * Stored log records as an OTLP/JSON `ExportLogsServiceRequest`: what Export Trace writes beside
 * a trace's spans, importable by other OTLP tools (and by this receiver's `POST /v1/logs`).
 * Records are grouped by resource and scope as spans are (`groupSpans`); each keeps its order.
 * The records are already held in the JSON shape (`LogRecordEntry`), so nothing is re-decoded
 * but the scope.
 */
import type { AnyValueJson, KeyValueJson } from '../model.js';
import type { LogRecordEntry } from './logs-request-decoder.js';
import { decodeScope } from './span-details.js';
import { groupSpans, scopeJson, type ResourceJson, type ScopeJson } from './export.js';

/** An OTLP/JSON `LogRecord`; fields left at their default are omitted, as proto3 JSON allows. */
export interface LogRecordJson {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValueJson;
  attributes: KeyValueJson[];
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: string;
  spanId?: string;
  eventName?: string;
}

export interface ExportLogsServiceRequestJson {
  resourceLogs: Array<{
    resource: ResourceJson;
    scopeLogs: Array<{ scope: ScopeJson; logRecords: LogRecordJson[]; schemaUrl: string }>;
    schemaUrl: string;
  }>;
}

function recordJson(r: LogRecordEntry): LogRecordJson {
  return {
    ...(r.timeUnixNano !== '0' && r.timeUnixNano !== '' ? { timeUnixNano: r.timeUnixNano } : {}),
    ...(r.observedTimeUnixNano !== '0' && r.observedTimeUnixNano !== ''
      ? { observedTimeUnixNano: r.observedTimeUnixNano }
      : {}),
    ...(r.severityNumber !== 0 ? { severityNumber: r.severityNumber } : {}),
    ...(r.severityText !== '' ? { severityText: r.severityText } : {}),
    ...(r.body !== undefined ? { body: r.body } : {}),
    attributes: [...r.attributes],
    ...(r.droppedAttributesCount !== 0 ? { droppedAttributesCount: r.droppedAttributesCount } : {}),
    ...(r.flags !== 0 ? { flags: r.flags } : {}),
    ...(r.traceId !== '' ? { traceId: r.traceId } : {}),
    ...(r.spanId !== '' ? { spanId: r.spanId } : {}),
    ...(r.eventName !== '' ? { eventName: r.eventName } : {}),
  };
}

/** Builds an OTLP/JSON `ExportLogsServiceRequest` of `records`. */
export function logsToOtlpJson(records: readonly LogRecordEntry[]): ExportLogsServiceRequestJson {
  const resourceLogs: ExportLogsServiceRequestJson['resourceLogs'] = [];
  for (const [resource, scopes] of groupSpans(records)) {
    const scopeLogs: ExportLogsServiceRequestJson['resourceLogs'][number]['scopeLogs'] = [];
    for (const [scope, list] of scopes) {
      scopeLogs.push({
        scope: scopeJson(decodeScope(scope.raw)),
        logRecords: list.map(recordJson),
        schemaUrl: scope.schemaUrl,
      });
    }
    resourceLogs.push({
      resource: {
        attributes: [...resource.attributes],
        droppedAttributesCount: resource.droppedAttributesCount,
      },
      scopeLogs,
      schemaUrl: resource.schemaUrl,
    });
  }
  return { resourceLogs };
}

/** The file Export Trace writes a trace's logs to, beside `tracePath` (`x.json` -> `x.logs.json`). */
export function logsPathBeside(tracePath: string): string {
  return tracePath.toLowerCase().endsWith('.json')
    ? `${tracePath.slice(0, -5)}.logs.json`
    : `${tracePath}.logs.json`;
}
