import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { indexSpanIds } from '../../src/core/analysis/span-id-index.js';
import type { SpanRecord } from '../../src/core/model.js';
import { seededRandom } from './helpers/random.js';
import { makeSpan } from './helpers/spans.js';

const hex16 = (r: () => number): string =>
  [r(), r()]
    .map((x) =>
      Math.floor(x * 2 ** 32)
        .toString(16)
        .padStart(8, '0'),
    )
    .join('');

/** The obvious model: a Map in first-seen order, the last record of an id winning. */
function model(ids: readonly string[]): { numbers: Map<string, number>; last: number[] } {
  const numbers = new Map<string, number>();
  const last: number[] = [];
  ids.forEach((id, i) => {
    let u = numbers.get(id);
    if (u === undefined) numbers.set(id, (u = numbers.size));
    last[u] = i;
  });
  return { numbers, last };
}

function check(ids: readonly string[], queries: readonly string[]): void {
  const spans: SpanRecord[] = ids.map((spanId) => makeSpan({ spanId, start: 0, end: 1 }));
  const { index, lastPosition } = indexSpanIds(spans);
  const want = model(ids);
  assert.equal(index.size, want.numbers.size);
  assert.deepEqual([...lastPosition], want.last);
  for (const q of queries) assert.equal(index.get(q), want.numbers.get(q) ?? -1, q);
}

describe('indexSpanIds', () => {
  it('numbers 16-hex ids in first-seen order across many partitions, duplicates included', () => {
    const r = seededRandom(42);
    // 40k ids: several cache-sized partitions; a few share their upper or lower half.
    const ids: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const roll = r();
      if (roll < 0.05 && ids.length > 0) ids.push(ids[Math.floor(r() * ids.length)] as string);
      else if (roll < 0.1 && ids.length > 0)
        ids.push((ids[ids.length - 1] as string).slice(0, 8) + hex16(r).slice(8));
      else ids.push(hex16(r));
    }
    const queries = [
      ...ids.slice(0, 5_000),
      ...Array.from({ length: 5_000 }, () => hex16(r)), // absent
      (ids[0] as string).toUpperCase(), // another spelling is another id
      '',
      'not-hex-at-all!!',
      (ids[1] as string).slice(0, 15),
    ];
    check(ids, queries);
  });

  it('falls back to a Map when an id is not 16 lowercase hex digits', () => {
    const r = seededRandom(7);
    const ids = Array.from({ length: 20_000 }, () => hex16(r));
    ids.push('root', 'root', (ids[3] as string).toUpperCase());
    check(ids, [...ids.slice(0, 100), 'root', 'nope', hex16(r), (ids[3] as string).toUpperCase()]);
  });

  it('handles an empty trace and a single span', () => {
    check([], ['0123456789abcdef']);
    check(['0123456789abcdef'], ['0123456789abcdef', 'fedcba9876543210']);
  });

  it('keeps sequential ids (no clustering) apart', () => {
    const ids = Array.from(
      { length: 30_000 },
      (_, i) => `5a17e000${i.toString(16).padStart(8, '0')}`,
    );
    check(
      ids,
      ids.filter((_, i) => i % 7 === 0),
    );
  });
});
