/**
 * `google.rpc.Status` (code = 1, message = 2), the error body OTLP/HTTP specifies for failed
 * requests. Encoded by hand: two fields do not justify pulling in a schema.
 */
export interface RpcStatus {
  /** A gRPC status code (3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, ...). */
  code: number;
  message: string;
}

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

export function encodeRpcStatus(status: RpcStatus): Buffer {
  const message = Buffer.from(status.message, 'utf8');
  const head: number[] = [];
  if (status.code !== 0) {
    head.push(0x08);
    varint(status.code, head);
  }
  head.push(0x12);
  varint(message.length, head);
  return Buffer.concat([Buffer.from(head), message]);
}

/** gRPC status codes used by the receivers. */
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** The gRPC code that corresponds to an HTTP status, for `google.rpc.Status` bodies. */
export function grpcCodeForHttp(status: number): number {
  if (status === 413) return GrpcCode.RESOURCE_EXHAUSTED;
  if (status === 415 || status === 404 || status === 405) return GrpcCode.UNIMPLEMENTED;
  if (status >= 500) return GrpcCode.INTERNAL;
  return GrpcCode.INVALID_ARGUMENT;
}
