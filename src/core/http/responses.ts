/**
 * Answers on the HTTP port, shared by the OTLP/HTTP receiver and the read API so that both speak
 * alike: errors as a `google.rpc.Status` (`{code, message}` in JSON, or protobuf where the
 * request was protobuf, as OTLP/HTTP specifies), bodies as JSON.
 *
 * Invariant: nothing is written twice. An error after the headers went out only ends the
 * response (a second status line would corrupt the connection).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeRpcStatus, grpcCodeForHttp } from '../otlp/rpc-status.js';

/** How an error body is encoded: protobuf for a protobuf request, JSON otherwise. */
export type BodyKind = 'protobuf' | 'json';

/** A request's media type, lower case and without parameters (`application/json`). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** An error with its `google.rpc.Status` body (JSON unless `kind` is protobuf). */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  kind?: BodyKind,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const code = grpcCodeForHttp(status);
  if (kind === 'protobuf') {
    res.writeHead(status, { 'content-type': 'application/x-protobuf' });
    res.end(encodeRpcStatus({ code, message }));
  } else {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, message }));
  }
}

/** A JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
