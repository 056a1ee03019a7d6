/**
 * Preloaded (`node --expose-gc --require <bundle of this file>`) into a process that a benchmark
 * measures from outside, such as `dist/cli.js serve` as shipped: over the IPC channel it answers
 * `{type: 'probe'}` with the process's CPU time and its memory after forced GCs, once the process
 * has gone quiet (the background analysis done), so that what a span costs later, off the ingest
 * path, is counted too; and `{type: 'pauses'}` with the event loop's delays and the garbage
 * collector's pauses since it started, to tell a slow handler from a GC pause. The process under
 * test is not otherwise changed.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
export interface ProbeReply {
  type: 'probe';
  /** User + system CPU time of the process when it went quiet, in ms (GC threads included). */
  cpuMs: number;
  /** How long it took to go quiet, in ms. */
  quietAfterMs: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
}

/** Quiet: less than this share of a core over one interval, after at least `minWaitMs`. */
const QUIET_SHARE = 0.03;
const INTERVAL_MS = 250;

async function waitQuiet(minWaitMs: number): Promise<number> {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, minWaitMs));
  for (;;) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
    const c = process.cpuUsage(c0);
    if ((c.user + c.system) / 1000 / (performance.now() - w0) < QUIET_SHARE) break;
  }
  return performance.now() - t0;
}

export interface PausesReply {
  type: 'pauses';
  /** Event loop delay percentiles, ms (resolution 10 ms: the histogram samples every 10 ms). */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** GC pauses of the main thread, ms: count, total, the longest, and how many over 10 ms. */
  gc: { count: number; totalMs: number; maxMs: number; over10ms: number };
}

if (process.send !== undefined) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const gc = { count: 0, totalMs: 0, maxMs: 0, over10ms: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      if (e.duration > 10) gc.over10ms++;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (m: { type?: string; minWaitMs?: number }) => {
    if (m?.type === 'pauses') {
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const reply: PausesReply = {
        type: 'pauses',
        loopDelayMs: {
          p50: ms(loop.percentile(50)),
          p99: ms(loop.percentile(99)),
          max: ms(loop.max),
        },
        gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
      };
      process.send!(reply);
      return;
    }
    if (m?.type !== 'probe') return;
    void (async () => {
      const quietAfterMs = await waitQuiet(m.minWaitMs ?? 0);
      const c = process.cpuUsage();
      const cpuMs = (c.user + c.system) / 1000;
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) throw new Error('the probe needs --expose-gc');
      for (let i = 0; i < 4; i++) {
        gc();
        await new Promise((r) => setImmediate(r));
      }
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      const reply: ProbeReply = {
        type: 'probe',
        cpuMs,
        quietAfterMs,
        memory: { rss, heapUsed, heapTotal, external },
      };
      process.send!(reply);
    })();
  });
  // The channel must not keep the process alive once it has stopped on a signal.
  process.channel?.unref();
}
