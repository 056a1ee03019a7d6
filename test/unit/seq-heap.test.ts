/**
 * `SeqHeap`: the smallest current entry by key then tie, with entries made outdated by the
 * caller's validity check, and compaction keeping exactly the current ones (random workloads
 * against a brute-force minimum).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SeqHeap } from '../../src/core/store/seq-heap.js';

interface Item {
  id: number;
  key: number;
  tie: number;
  gone: boolean;
}

describe('SeqHeap', () => {
  it('peeks the smallest current entry through pushes, outdating and compaction', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const items: Item[] = [];
    const heap = new SeqHeap<Item>((it, key, tie) => !it.gone && it.key === key && it.tie === tie);
    const live = () => items.filter((it) => !it.gone);
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (r < 0.5 || live().length === 0) {
        const it = { id: items.length, key: Math.floor(random() * 50), tie: step, gone: false };
        items.push(it);
        heap.push(it.key, it, it.tie);
      } else if (r < 0.7) {
        // A key change: the item is pushed again, its old entry is outdated.
        const it = live()[Math.floor(random() * live().length)]!;
        it.key = Math.floor(random() * 50);
        it.tie = step;
        heap.push(it.key, it, it.tie);
      } else {
        const it = heap.peek()!;
        it.gone = true;
      }
      if (step % 97 === 0) heap.compactIfMostlyOutdated(live().length);
      const want = live().sort((a, b) => a.key - b.key || a.tie - b.tie)[0];
      assert.equal(heap.peek(), want, `step ${step}`);
    }
    assert.ok(heap.size <= Math.max(1024, 2 * live().length) + 97, 'compaction bounds the size');
  });
});
