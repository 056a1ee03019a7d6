/**
 * Reads an HTTP request body under a size limit that applies to the *decompressed* bytes, so a
 * small gzip bomb is stopped as soon as its output passes the limit instead of after inflating.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';

/** A client error with the HTTP status to answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * Resolves with the body bytes (gunzipped when `Content-Encoding: gzip`). Rejects with
 * `HttpError` 413 past `limit` bytes, 415 for an unsupported encoding, 400 for a corrupt gzip
 * stream or an aborted upload.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== '') {
    return Promise.reject(
      new HttpError(415, `unsupported Content-Encoding "${encoding}" (use gzip or none)`),
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(
      new HttpError(
        413,
        `request body of ${formatBytes(declared)} exceeds the limit of ${formatBytes(limit)}`,
      ),
    );
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (done) return;
      done = true;
      if (err) {
        // Stop reading: the rest of an oversize or broken upload is discarded.
        req.unpipe();
        req.resume();
        reject(err);
      } else resolve(body!);
    };
    const source = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
    source.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        const what = encoding === 'gzip' ? 'decompressed request body' : 'request body';
        finish(new HttpError(413, `${what} exceeds the limit of ${formatBytes(limit)}`));
        if (source !== req) (source as NodeJS.ReadableStream & { destroy(): void }).destroy();
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => finish(undefined, Buffer.concat(chunks, size)));
    source.on('error', (e: Error) => finish(new HttpError(400, `invalid gzip body: ${e.message}`)));
    req.on('aborted', () => finish(new HttpError(400, 'request aborted by the client')));
    req.on('error', (e: Error) => finish(new HttpError(400, `request error: ${e.message}`)));
  });
}
