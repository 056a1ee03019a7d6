/**
 * The protobuf reader's exact 64-bit decimals (timestamps, int attributes), computed without
 * BigInt on the hot path: every value equals BigInt's own text, at the edges (2^53, 2^63,
 * 2^64 - 1, negative ints) and for random values of every size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoReader, unsignedDecimal } from '../../src/core/otlp/proto-reader.js';
import { seededRandom } from './helpers/random.js';

function fixed64Bytes(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

function varintBytes(v: bigint): Buffer {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let byte = Number(u & 0x7fn);
    u >>= 7n;
    if (u > 0n) byte |= 0x80;
    out.push(byte);
  } while (u > 0n);
  return Buffer.from(out);
}

const EDGES = [
  0n,
  1n,
  999_999n,
  1_000_000n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  1_750_000_000_123_456_789n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

function randomU64(rnd: () => number): bigint {
  const bits = 1 + Math.floor(rnd() * 64);
  let v = 0n;
  for (let i = 0; i < bits; i++) v = (v << 1n) | (rnd() < 0.5 ? 1n : 0n);
  return v;
}

describe('ProtoReader 64-bit decimals', () => {
  it('fixed64String and unsignedDecimal equal BigInt at the edges and on random values', () => {
    const rnd = seededRandom(64);
    const values = [...EDGES, ...Array.from({ length: 20_000 }, () => randomU64(rnd))];
    for (const v of values) {
      assert.equal(new ProtoReader(fixed64Bytes(v)).fixed64String(), v.toString(), String(v));
      const lo = Number(v & 0xffffffffn);
      const hi = Number(v >> 32n);
      assert.equal(unsignedDecimal(lo, hi), v.toString());
    }
  });

  it('int64String equals BigInt for positive and negative ints', () => {
    const rnd = seededRandom(65);
    const values = [
      ...EDGES.map((v) => BigInt.asIntN(64, v)),
      -1n,
      -(2n ** 53n),
      -(2n ** 63n),
      ...Array.from({ length: 20_000 }, () => BigInt.asIntN(64, randomU64(rnd))),
    ];
    for (const v of values) {
      assert.equal(new ProtoReader(varintBytes(v)).int64String(), v.toString(), String(v));
    }
  });

  it('still refuses a truncated fixed64', () => {
    assert.throws(() => new ProtoReader(Buffer.alloc(7)).fixed64String(), /truncated fixed64/);
  });
});
