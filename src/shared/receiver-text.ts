/**
 * How the receiver's endpoints read wherever a user is told where to send spans: the Traces
 * view, the waterfall's empty state, the Copy OTLP Endpoint notifications. The editor and the
 * webview bundle both print them, from the ports actually bound (a taken port moves the
 * receiver to the next free one), so the text lives here, free of Node and `vscode`.
 */

/** The receiver's base URLs, as `RunningServer.endpoints` gives them (`http://127.0.0.1:4317`). */
export interface ReceiverEndpoints {
  /** OTLP/gRPC. */
  readonly grpc: string;
  /** OTLP/HTTP, without a path: the form `OTEL_EXPORTER_OTLP_ENDPOINT` takes. */
  readonly http: string;
}

/** `127.0.0.1:4317` of `http://127.0.0.1:4317`; the text itself if it is not a URL. */
export function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** `OTLP/gRPC on 127.0.0.1:4317, OTLP/HTTP on 127.0.0.1:4318`. */
export function endpointsText(e: ReceiverEndpoints): string {
  return `OTLP/gRPC on ${hostPort(e.grpc)}, OTLP/HTTP on ${hostPort(e.http)}`;
}

/** The waterfall's hint before the first trace: where to send spans, when the receiver runs. */
export function noTraceHint(e: ReceiverEndpoints | null): string {
  return e === null
    ? 'Start the Stagelight receiver and send it spans, or run the demo pipeline; the latest trace shows here.'
    : `Send spans to the Stagelight receiver (${endpointsText(e)}) or run the demo pipeline; the latest trace shows here.`;
}

/**
 * What the notification of a copied endpoint says: which variable takes the copied form. gRPC
 * takes the base URL in both variables; OTLP/HTTP takes the base in `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (the SDK appends `/v1/traces`) and the full URL in `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
 */
export function copiedEndpointText(kind: 'grpc' | 'http', e: ReceiverEndpoints): string {
  if (kind === 'grpc') {
    return (
      `Stagelight: copied the OTLP/gRPC endpoint ${e.grpc}, for OTEL_EXPORTER_OTLP_ENDPOINT ` +
      `(or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the same URL) with OTEL_EXPORTER_OTLP_PROTOCOL=grpc.`
    );
  }
  return (
    `Stagelight: copied the OTLP/HTTP endpoint ${e.http}, for OTEL_EXPORTER_OTLP_ENDPOINT ` +
    `(the SDK adds /v1/traces); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT takes the full ` +
    `${httpTracesUrl(e)}.`
  );
}

/** The full OTLP/HTTP traces URL: the form `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` takes. */
export function httpTracesUrl(e: ReceiverEndpoints): string {
  return `${e.http.replace(/\/+$/, '')}/v1/traces`;
}
