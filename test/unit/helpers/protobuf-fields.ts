/**
 * Hand-made protobuf for the decoder tests: each helper returns one encoded field (tag + value),
 * so that a test can concatenate fields in any order, repeat them, or cut them, which no SDK's
 * serializer would do.
 */
import { WireType } from '../../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../../src/core/otlp/proto-writer.js';

/** A length-delimited field: a string (UTF-8) or bytes. */
export function len(field: number, content: Uint8Array | string): Buffer {
  const w = new ProtoWriter();
  if (typeof content === 'string') w.stringField(field, content);
  else w.bytesField(field, content);
  return Buffer.from(w.finish());
}

export function varint(field: number, v: number | bigint): Buffer {
  return Buffer.from(new ProtoWriter().tag(field, WireType.VARINT).uint64(v).finish());
}

export function fixed64(field: number, v: bigint): Buffer {
  return Buffer.from(new ProtoWriter().tag(field, WireType.I64).fixed64(v).finish());
}

export function fixed32(field: number, v: number): Buffer {
  return Buffer.from(new ProtoWriter().tag(field, WireType.I32).fixed32(v).finish());
}

/** A tag alone, of any wire type (valid or not). */
export function tagBytes(field: number, wireType: number): Buffer {
  return Buffer.from(new ProtoWriter().tag(field, wireType).finish());
}

/** Fields in a row. */
export const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
