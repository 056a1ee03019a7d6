/**
 * The memory budget (`src/core/memory-budget.ts`) against real heap measurements, in a child
 * process per test (`helpers/memory-child.ts`, a fresh heap, forced GCs):
 * - what the engine counts for realistic spans (the OpenTelemetry SDK's, analysis and
 *   statistics on) is within a stated factor of the heap + external growth;
 * - spans of 8 MiB sent to the real OTLP/HTTP receiver with a budget of 64 MiB: the process
 *   stays within the budget plus a fixed overhead, which a span budget could not do.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { WireType } from '../../src/core/otlp/proto-reader.js';
import type { MemoryUsage } from '../../src/core/memory-budget.js';

const MIB = 1024 * 1024;
const CHILD = path.join(__dirname, 'helpers', 'memory-child.ts');
/**
 * Counted bytes over measured growth (heap + external after GC) for the realistic workload: the
 * estimates must stay within this factor either way.
 */
const ACCOUNTING_FACTOR = 1.25;
/**
 * What the process may hold beyond the budget, after GC, once full: the decoder's caches, the
 * servers' buffers, compiled code of the paths that ran.
 */
const FIXED_OVERHEAD = 16 * MIB;
/** RSS beyond the budget: freed buffers the allocator keeps mapped (see the test). */
const RSS_SLACK = 128 * MIB;

interface Measured {
  memory: NodeJS.MemoryUsage;
  counted: MemoryUsage;
  spans: number;
  evicted: number;
}

class Child {
  private readonly waiters: Array<(m: { type: string } & Record<string, unknown>) => void> = [];
  readonly process: ChildProcess;

  constructor(budget: number) {
    this.process = fork(CHILD, [String(budget)], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.process.on('message', (m: { type: string } & Record<string, unknown>) =>
      this.waiters.shift()?.(m),
    );
    children.add(this.process);
  }

  next<T>(): Promise<T> {
    return new Promise((resolve) => this.waiters.push((m) => resolve(m as T)));
  }

  async ask<T>(message: object): Promise<T> {
    const reply = this.next<T>();
    this.process.send(message);
    return reply;
  }
}

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

const live = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external;

/** An `ExportTraceServiceRequest` of one span carrying an attribute of `bytes` bytes. */
function largeSpanRequest(n: number, bytes: number): Uint8Array {
  const id = (len: number) => Buffer.from((n + 1).toString(16).padStart(len * 2, '0'), 'hex');
  const w = new ProtoWriter();
  w.message(1, (w) => {
    w.message(1, (w) =>
      w.message(1, (w) => {
        w.stringField(1, 'service.name');
        w.message(2, (w) => w.stringField(1, 'large-spans'));
      }),
    );
    w.message(2, (w) =>
      w.message(2, (w) => {
        w.bytesField(1, id(16));
        w.bytesField(2, id(8));
        w.stringField(5, 'upload');
        w.tag(7, WireType.I64).fixed64(1_700_000_000_000_000_000n);
        w.tag(8, WireType.I64).fixed64(1_700_000_000_100_000_000n);
        w.message(9, (w) => {
          w.stringField(1, 'payload');
          w.message(2, (w) => w.stringField(1, 'x'.repeat(bytes)));
        });
      }),
    );
  });
  return Uint8Array.from(w.finish());
}

describe('memory budget', () => {
  it(`counts realistic spans within ${ACCOUNTING_FACTOR}x of the heap growth`, async (t) => {
    const child = new Child(2048 * MIB);
    const ready = await child.next<{ memory: NodeJS.MemoryUsage }>();
    await child.ask({ type: 'ingest', batches: 100 });
    const m = await child.ask<Measured>({ type: 'measure' });
    child.process.send({ type: 'exit' });
    assert.equal(m.spans, 51_200);
    const grown = live(m.memory) - live(ready.memory);
    const ratio = m.counted.total / grown;
    t.diagnostic(
      `counted/measured ${ratio.toFixed(3)}: ${JSON.stringify(m.counted)}, grown ${grown}`,
    );
    assert.ok(
      ratio >= 1 / ACCOUNTING_FACTOR && ratio <= ACCOUNTING_FACTOR,
      `counted ${m.counted.total} bytes (${JSON.stringify(m.counted)}), grown ${grown}: ${ratio.toFixed(2)}x`,
    );
  });

  it('20 spans of 8 MiB through OTLP/HTTP with a budget of 64 MiB: the budget holds', async (t) => {
    const budget = 64 * MIB;
    const child = new Child(budget);
    const ready = await child.next<{ httpPort: number; memory: NodeJS.MemoryUsage }>();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${ready.httpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: largeSpanRequest(i, 8 * MIB),
      });
      assert.equal(res.status, 200, await res.text());
    }
    const m = await child.ask<Measured>({ type: 'measure' });
    child.process.send({ type: 'exit' });
    assert.ok(m.counted.total <= budget, JSON.stringify(m.counted));
    assert.ok(m.spans >= 5 && m.spans <= 7, `${m.spans} spans of 8 MiB held`);
    assert.equal(m.spans + m.evicted, 20, 'every span is held or counted as evicted');
    const grown = live(m.memory) - live(ready.memory);
    assert.ok(grown <= budget + FIXED_OVERHEAD, `grew by ${(grown / MIB).toFixed(1)} MiB`);
    // RSS also counts freed memory the allocator keeps for reuse (glibc raises its mmap
    // threshold after the first large frees, so later 8 MiB buffers come from its heap and stay
    // mapped): a looser bound, still far below the 160 MiB of spans sent.
    const rssGrown = m.memory.rss - ready.memory.rss;
    t.diagnostic(
      `${m.spans} held; grew ${(grown / MIB).toFixed(1)} MiB, RSS ${(rssGrown / MIB).toFixed(1)} MiB`,
    );
    assert.ok(rssGrown <= budget + RSS_SLACK, `RSS grew by ${(rssGrown / MIB).toFixed(1)} MiB`);
  });
});
