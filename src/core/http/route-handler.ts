/**
 * The routes the HTTP port serves besides OTLP ingest (the read API): the receiver checks the
 * Host and the token first, then asks the handler, and answers 404 when it declines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Handles a request; resolves true when it answered it. */
export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => boolean | Promise<boolean>;
