/**
 * OTLP/JSON as it is kept in files: one `ExportTraceServiceRequest` (what the read API and Export
 * Trace write) or one per line (the OpenTelemetry Collector's file exporter). Each body then goes
 * through the same ingest path as an OTLP/HTTP request, of its signal (`bodySignal`): Export
 * Trace writes a trace's logs beside it as an `ExportLogsServiceRequest`.
 */

/** Splits file content into OTLP/JSON request bodies: the whole file, or one per line. */
export function requestBodies(text: string): string[] {
  const trimmed = text.trim();
  try {
    JSON.parse(trimmed);
    return [trimmed];
  } catch {
    return trimmed
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  }
}

/** The first span's trace id in an OTLP/JSON request, when it is hex (ids may be base64). */
export function firstTraceId(request: unknown): string | undefined {
  const rs = (
    request as {
      resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ traceId?: unknown }> }> }>;
    } | null
  )?.resourceSpans;
  const id = rs?.[0]?.scopeSpans?.[0]?.spans?.[0]?.traceId;
  return typeof id === 'string' && /^[0-9a-fA-F]{32}$/.test(id) ? id.toLowerCase() : undefined;
}

/**
 * The signal of an OTLP/JSON request body, from its first key (a request has only the one):
 * `resourceLogs` and `resourceMetrics` name theirs; anything else is read as traces, whose
 * decoder then says what is wrong with it. Looked up lexically, so a large file is not parsed
 * twice.
 */
export function bodySignal(body: string): 'traces' | 'logs' | 'metrics' {
  const m = /^\s*\{\s*"(resourceSpans|resourceLogs|resourceMetrics)"\s*:/.exec(body);
  return m?.[1] === 'resourceLogs' ? 'logs' : m?.[1] === 'resourceMetrics' ? 'metrics' : 'traces';
}
