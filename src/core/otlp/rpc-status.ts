/**
 * `google.rpc.Status` (code = 1, message = 2), the error body OTLP/HTTP specifies for failed
 * requests, and the gRPC status codes both receivers answer with.
 */
import { ProtoReader, WireType } from './proto-reader.js';
import { ProtoWriter } from './proto-writer.js';

export interface RpcStatus {
  /** A gRPC status code (3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, ...). */
  code: number;
  message: string;
}

export function encodeRpcStatus(status: RpcStatus): Buffer {
  const w = new ProtoWriter();
  if (status.code !== 0) w.tag(1, WireType.VARINT).int32(status.code);
  w.stringField(2, status.message);
  return w.finish();
}

/**
 * Decodes a `google.rpc.Status` (an upstream's error answer); its `details` are skipped. Throws
 * `ProtoDecodeError` when the bytes are not one (truncated, wrong wire types).
 */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const r = new ProtoReader(bytes);
  const status: RpcStatus = { code: 0, message: '' };
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) {
      r.expect(tag, WireType.VARINT, 'Status.code');
      status.code = r.uint32();
    } else if (tag >>> 3 === 2) {
      r.expect(tag, WireType.LEN, 'Status.message');
      status.message = r.string();
    } else {
      r.skip(tag & 7);
    }
  }
  return status;
}

/** gRPC status codes used by the receivers. */
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The gRPC code that corresponds to an HTTP status, for `google.rpc.Status` bodies. */
export function grpcCodeForHttp(status: number): number {
  if (status === 413) return GrpcCode.RESOURCE_EXHAUSTED;
  if (status === 415 || status === 404 || status === 405) return GrpcCode.UNIMPLEMENTED;
  if (status === 401) return GrpcCode.UNAUTHENTICATED;
  if (status === 403) return GrpcCode.PERMISSION_DENIED;
  if (status >= 500) return GrpcCode.INTERNAL;
  return GrpcCode.INVALID_ARGUMENT;
}
