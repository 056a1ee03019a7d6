/**
 * Protobuf wire-format encoder: the counterpart of `ProtoReader`, used to encode OTLP/JSON
 * requests into the single protobuf ingest path, to build export responses, and to assemble
 * export batches from stored span bytes.
 *
 * Nested messages whose length is not known up front are written with `openMessage`/
 * `closeMessage`: one byte is reserved for the length prefix and, when the finished content
 * needs a longer varint, the content is shifted right by the missing bytes. A message of n
 * bytes therefore costs O(n) once per enclosing level that is still open, which keeps the total
 * linear for the bounded nesting that OTLP has (ExportTraceServiceRequest > ResourceSpans >
 * ScopeSpans > Span > KeyValue > AnyValue, with AnyValue nesting capped by its callers).
 *
 * Numbers that are out of range for the field's type are programming errors here (callers
 * validate untrusted input first) and throw `RangeError`.
 */

import { WireType } from './proto-reader.js';

const TWO_POW_32 = 4294967296;
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const DECIMAL = /^-?[0-9]+$/;

/** Number of bytes of the varint encoding of an unsigned 32-bit value. */
function varintSize32(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

function checkUint32(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= TWO_POW_32) {
    throw new RangeError(`not an unsigned 32-bit integer: ${v}`);
  }
}

/** Parses a decimal integer string; `RangeError` for anything else. */
function parseDecimal(s: string): bigint {
  if (!DECIMAL.test(s)) throw new RangeError(`not a decimal integer: ${JSON.stringify(s)}`);
  return BigInt(s);
}

/** A growable-buffer protobuf encoder. Write fields in order, then call `finish()` once. */
export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;
  /** Offsets of the reserved length byte of each message opened and not yet closed. */
  private readonly open: number[] = [];

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes a field tag (field number and wire type). */
  tag(field: number, wireType: number): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new RangeError(`invalid field number ${field}`);
    }
    return this.uint32(((field << 3) | wireType) >>> 0);
  }

  /** Writes an unsigned 32-bit varint (also enums, non-negative int32, lengths). */
  uint32(v: number): this {
    checkUint32(v);
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
    return this;
  }

  /**
   * Writes an int32 varint: negative values are sign-extended to 10 bytes, as protobuf does
   * (OTLP's enums are int32 on the wire).
   */
  int32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new RangeError(`not a 32-bit integer: ${v}`);
    }
    return v >= 0 ? this.uint32(v) : this.varint64(BigInt.asUintN(64, BigInt(v)));
  }

  /** Writes an unsigned 64-bit varint from a non-negative integer number or a bigint. */
  uint64(v: number | bigint): this {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`not an unsigned integer: ${v}`);
      if (v < TWO_POW_32) return this.uint32(v);
      v = BigInt(v);
    }
    if (v < 0n || v > UINT64_MAX) throw new RangeError(`out of uint64 range: ${v}`);
    return this.varint64(v);
  }

  /**
   * Writes a signed int64 varint (two's complement, negatives take 10 bytes) from a decimal
   * string, an integer number or a bigint.
   */
  int64(v: string | number | bigint): this {
    let b: bigint;
    if (typeof v === 'string') b = parseDecimal(v);
    else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
      if (v >= 0 && v < TWO_POW_32) return this.uint32(v);
      b = BigInt(v);
    } else b = v;
    if (b < INT64_MIN || b > INT64_MAX) throw new RangeError(`out of int64 range: ${b}`);
    return this.varint64(BigInt.asUintN(64, b));
  }

  /** Writes a varint from a bigint already known to be in [0, 2^64). */
  private varint64(v: bigint): this {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    // Split once into two 32-bit halves so that the loop runs on plain numbers.
    let lo = Number(v & 0xffffffffn);
    let hi = Number(v >> 32n);
    while (hi > 0 || lo >= 0x80) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
    return this;
  }

  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** Writes a fixed64 (little-endian) from a decimal string, a bigint or a safe integer. */
  fixed64(v: string | bigint | number): this {
    let b: bigint;
    if (typeof v === 'string') b = parseDecimal(v);
    else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
      b = BigInt(v);
    } else b = v;
    if (b < 0n || b > UINT64_MAX) throw new RangeError(`out of uint64 range: ${b}`);
    this.ensure(8);
    this.buf.writeBigUInt64LE(b, this.pos);
    this.pos += 8;
    return this;
  }

  fixed32(v: number): this {
    checkUint32(v);
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
    return this;
  }

  double(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** Writes a length-prefixed UTF-8 string (lone surrogates become U+FFFD). */
  string(s: string): this {
    // Fast path for short strings: at most 3 bytes per UTF-16 unit, so the length prefix of
    // anything under 42 units fits in one byte and can be written after the text.
    if (s.length < 42) {
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return this;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uint32(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
    return this;
  }

  /** Writes length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    this.uint32(b.length);
    return this.raw(b);
  }

  /** Appends bytes as they are (no length prefix): already-encoded fields or messages. */
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Writes a length-delimited field whose content is `b` (a string, bytes or message). */
  bytesField(field: number, b: Uint8Array): this {
    return this.tag(field, WireType.LEN).bytes(b);
  }

  stringField(field: number, s: string): this {
    return this.tag(field, WireType.LEN).string(s);
  }

  /**
   * Starts a nested message as field `field`; its content is what is written until the
   * matching `closeMessage()`. Calls nest.
   */
  openMessage(field: number): this {
    this.tag(field, WireType.LEN);
    this.ensure(1);
    this.open.push(this.pos);
    this.pos += 1;
    return this;
  }

  /** Ends the innermost open message and writes its length prefix. */
  closeMessage(): this {
    const at = this.open.pop();
    if (at === undefined) throw new Error('closeMessage() without openMessage()');
    const len = this.pos - at - 1;
    const size = varintSize32(len);
    if (size > 1) {
      // The reserved byte is too small: move the content right to make room.
      this.ensure(size - 1);
      this.buf.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    const buf = this.buf;
    let p = at;
    let v = len;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    return this;
  }

  /** Writes `build`'s output as a nested message in field `field`. */
  message(field: number, build: (w: this) => void): this {
    this.openMessage(field);
    build(this);
    return this.closeMessage();
  }

  /**
   * Returns the encoded bytes: a view of the writer's buffer, not a copy, so the writer must
   * not be written to afterwards. A `Buffer`, for callers that hand it to Node APIs.
   */
  finish(): Buffer {
    if (this.open.length > 0) throw new Error(`${this.open.length} message(s) left open`);
    return this.buf.subarray(0, this.pos);
  }
}

/** Size of the varint encoding of a length (for callers that precompute message sizes). */
export function lengthPrefixSize(len: number): number {
  checkUint32(len);
  return varintSize32(len);
}
