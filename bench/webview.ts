/**
 * `npm run bench:webview`: the waterfall webview in headless Chromium, on the built bundle
 * (dist/webview), through the harness page (webview/dev/harness.html).
 *
 * Measures
 * - first paint of a generated 10k-, 100k- and 1M-span trace: from posting the `trace` message
 *   (structured clone included) to the end of the first frame that drew it;
 * - frame times while scrolling and zooming a 100k- and a 1M-span trace: the time each frame
 *   spends drawing (the main-thread work per frame; the interval between frames is vsync-bound
 *   in a headless browser and reported beside it);
 * - the live delay: spans sent over OTLP/HTTP to a real Stagelight receiver at 5,000 spans/s,
 *   the engine's change events turned into payloads by `buildTracePayload` and streamed to the
 *   page (Server-Sent Events standing in for the extension host's postMessage): time from
 *   sending a span to the first painted frame of the trace that holds it.
 *
 * Options: --no-docs (leave docs/benchmarks.md alone), --live-seconds=N (default 6).
 * Last line: a JSON object with firstPaintMs100k, firstPaintMs1M, frameP95Ms, liveP95Ms.
 */

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildTracePayload } from '../src/core/api/trace-payload.js';
import { startServer } from '../src/core/server.js';
import type { HostMessage } from '../src/protocol/messages.js';
import { startHarnessServer, type HarnessServer } from '../webview/dev/harness-server.js';
import { docsMarkers, writeBenchSection } from './lib/docs.js';

const { start: DOCS_START, end: DOCS_END } = docsMarkers('webview');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--headless=new',
];
const VIEWPORT = { width: 1600, height: 1000 };
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

interface HarnessWindow {
  stagelightHarness: {
    ready: boolean;
    open(spans: number, version?: number): Promise<number>;
    drawMs: number[];
    resetFrames(): void;
    livePaints: { traceId: string; spanCount: number; at: number }[];
    exerciseFrames(
      steps: number,
    ): Promise<{ scroll: number[]; zoom: number[]; intervals: number[] }>;
  };
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}
const median = (xs: readonly number[]): number => quantile(xs, 0.5);
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function freshPage(browser: Browser, server: HarnessServer, query = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  // tsx compiles the functions passed to page.evaluate with esbuild's keepNames, which wraps
  // named functions in a `__name` helper that only exists in Node.
  await page.addInitScript('window.__name = (f) => f;');
  await page.goto(`${server.url}${query}`);
  await page.waitForFunction(
    () => (globalThis as unknown as HarnessWindow).stagelightHarness?.ready === true,
  );
  return page;
}

async function firstPaint(
  browser: Browser,
  server: HarnessServer,
  spans: number,
  runs: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    // A fresh page per run: nothing cached from the previous trace.
    const page = await freshPage(browser, server);
    out.push(
      await page.evaluate(
        (n) => (globalThis as unknown as HarnessWindow).stagelightHarness.open(n),
        spans,
      ),
    );
    await page.close();
  }
  return out;
}

interface FrameStats {
  scroll: number[];
  zoom: number[];
  intervals: number[];
}

/** Scrolls and zooms a loaded trace frame by frame, collecting each frame's draw time. */
async function frames(browser: Browser, server: HarnessServer, spans: number): Promise<FrameStats> {
  const page = await freshPage(browser, server);
  await page.evaluate(
    (n) => (globalThis as unknown as HarnessWindow).stagelightHarness.open(n),
    spans,
  );
  const result = await page.evaluate(() =>
    (globalThis as unknown as HarnessWindow).stagelightHarness.exerciseFrames(150),
  );
  await page.close();
  return result;
}

interface LiveResult {
  delays: number[];
  spansSent: number;
  seconds: number;
  updates: number;
}

const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');

/** The live path: receiver -> engine -> buildTracePayload -> page, at 5,000 spans/s. */
async function live(
  browser: Browser,
  harness: HarnessServer,
  seconds: number,
): Promise<LiveResult> {
  const receiver = await startServer({ grpcPort: 0, httpPort: 0, log: quiet, coalesceMs: 10 });
  let updates = 0;
  let shownTrace = '';
  const unsubscribe = receiver.engine.onChange((c) => {
    // Follow latest: show the most recently added trace, else the one that was updated.
    const traceId =
      c.added[c.added.length - 1] ??
      (c.updated.includes(shownTrace) ? shownTrace : c.updated[c.updated.length - 1]);
    if (traceId === undefined) return;
    const entry = receiver.engine.store.get(traceId);
    const analysis = receiver.engine.analyze(traceId);
    if (entry === undefined || analysis === undefined) return;
    const m: HostMessage = {
      type: 'trace',
      trace: buildTracePayload(entry, analysis),
      reason: traceId === shownTrace ? 'update' : 'open',
    };
    shownTrace = traceId;
    updates++;
    harness.broadcast(m);
  });
  const page = await freshPage(browser, harness, '?live=1');
  const deadline = Date.now() + 5000;
  while (harness.liveClients === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));

  // 5,000 spans/s as 50 spans every 10 ms; a new trace every 100 ms (500 spans each), its
  // root sent last (SDKs export a span when it ends, so children come before their parent).
  const SPANS_PER_BATCH = 50;
  const INTERVAL_MS = 10;
  const PER_TRACE = 500;
  const sent: { traceId: string; index: number; at: number }[] = [];
  const t0 = Date.now();
  const startNs = BigInt(t0) * 1_000_000n;
  let seq = 0;
  const pending: Promise<unknown>[] = [];
  const totalBatches = Math.round((seconds * 1000) / INTERVAL_MS);
  for (let b = 0; b < totalBatches; b++) {
    const due = t0 + b * INTERVAL_MS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const spans = [];
    const at = Date.now();
    for (let k = 0; k < SPANS_PER_BATCH; k++, seq++) {
      const traceNo = Math.floor(seq / PER_TRACE);
      const index = seq % PER_TRACE; // 0 .. PER_TRACE - 1; the last one is the root
      const traceId = hex(0xabc0000 + traceNo, 32);
      const isRoot = index === PER_TRACE - 1;
      const s = startNs + BigInt(traceNo) * 100_000_000n + BigInt(isRoot ? 0 : index * 190_000);
      const e = isRoot ? s + 100_000_000n : s + 150_000n;
      spans.push({
        traceId,
        spanId: hex(seq + 1, 16),
        ...(isRoot ? {} : { parentSpanId: hex(traceNo * PER_TRACE + PER_TRACE, 16) }),
        name: isRoot ? 'inference_request' : `stage-${index % 7}`,
        kind: 1,
        startTimeUnixNano: s.toString(),
        endTimeUnixNano: e.toString(),
        attributes: [],
        events: [],
        links: [],
        status: {},
      });
      sent.push({ traceId, index: index + 1, at });
    }
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'live-bench' } }] },
          scopeSpans: [{ scope: { name: 'bench' }, spans }],
        },
      ],
    });
    pending.push(
      fetch(receiver.endpoints.httpTraces, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then((r) => r.arrayBuffer()),
    );
  }
  await Promise.all(pending);
  await new Promise((r) => setTimeout(r, 500));
  const paints = await page.evaluate(
    () => (globalThis as unknown as HarnessWindow).stagelightHarness.livePaints,
  );
  unsubscribe();
  await page.close();
  await receiver.close();

  // A span's row appears in the first painted frame of its trace holding at least as many spans
  // as had been sent to that trace when it was sent (spans arrive in order on one connection).
  const byTrace = new Map<string, { spanCount: number; at: number }[]>();
  for (const p of paints) {
    const list = byTrace.get(p.traceId) ?? [];
    list.push(p);
    byTrace.set(p.traceId, list);
  }
  for (const list of byTrace.values()) list.sort((a, b) => a.at - b.at);
  const delays: number[] = [];
  const warmupUntil = t0 + 1000;
  for (const s of sent) {
    if (s.at < warmupUntil) continue;
    const list = byTrace.get(s.traceId);
    const hit = list?.find((p) => p.spanCount >= s.index && p.at >= s.at);
    if (hit !== undefined) delays.push(hit.at - s.at);
  }
  return { delays, spansSent: seq, seconds, updates };
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const args = process.argv.slice(2);
  const docs = !args.includes('--no-docs');
  const liveSeconds = Number(
    args.find((a) => a.startsWith('--live-seconds='))?.split('=')[1] ?? '6',
  );
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`,
    );
  }
  if (!existsSync(path.join(root, 'dist/webview/waterfall.js'))) {
    throw new Error('dist/webview/waterfall.js is missing: run `npm run build` first');
  }
  const harness = await startHarnessServer({ bundle: 'dist' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const version = browser.version();
  try {
    const fp: Record<string, number[]> = {};
    for (const [n, runs] of [
      [10_000, 5],
      [100_000, 5],
      [1_000_000, 3],
    ] as const) {
      fp[n] = await firstPaint(browser, harness, n, runs);
      console.log(
        `first paint ${n.toLocaleString('en')} spans: ${fp[n].map(r1).join(', ')} ms (median ${r1(median(fp[n]))})`,
      );
    }
    const f100k = await frames(browser, harness, 100_000);
    const f1m = await frames(browser, harness, 1_000_000);
    const allDraw = [...f100k.scroll, ...f100k.zoom, ...f1m.scroll, ...f1m.zoom];
    const frameLine = (label: string, f: FrameStats): string =>
      `${label}: scroll draw p50 ${r1(median(f.scroll))} / p95 ${r1(quantile(f.scroll, 0.95))} ms, zoom draw p50 ${r1(median(f.zoom))} / p95 ${r1(quantile(f.zoom, 0.95))} ms, frame interval p95 ${r1(quantile(f.intervals, 0.95))} ms`;
    console.log(frameLine('100k', f100k));
    console.log(frameLine('1M', f1m));
    const lv = await live(browser, harness, liveSeconds);
    console.log(
      `live: ${lv.spansSent} spans in ${lv.seconds} s, ${lv.updates} payloads, delay p50 ${r1(median(lv.delays))} / p95 ${r1(quantile(lv.delays, 0.95))} / max ${r1(Math.max(...lv.delays))} ms (${lv.delays.length} spans measured)`,
    );

    const summary = {
      firstPaintMs10k: r1(median(fp[10_000] ?? [])),
      firstPaintMs100k: r1(median(fp[100_000] ?? [])),
      firstPaintMs1M: r1(median(fp[1_000_000] ?? [])),
      frameP95Ms: r1(quantile(allDraw, 0.95)),
      frameIntervalP95Ms: r1(quantile([...f100k.intervals, ...f1m.intervals], 0.95)),
      liveP50Ms: r1(median(lv.delays)),
      liveP95Ms: r1(quantile(lv.delays, 0.95)),
    };
    if (docs) {
      const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
      const machine = `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, Chromium ${version} (headless, --disable-gpu)`;
      const ok = (v: number, goal: number): string => (v < goal ? 'met' : '**missed**');
      const section = `${DOCS_START}
## Waterfall webview (\`npm run bench:webview\`)

_Written by \`bench/webview.ts\` on ${new Date().toISOString().slice(0, 10)}; ${machine}._

**What is measured.** The built webview bundle (\`dist/webview/waterfall.js\`) in headless
Chromium, loaded by the harness page (\`webview/dev/harness.html\`, the same strict CSP as in
VS Code, a stand-in for the extension host). Viewport ${VIEWPORT.width}×${VIEWPORT.height}.

- **First paint**: a generated trace (a RAG pipeline repeated, \`webview/dev/synthetic-trace.ts\`)
  is posted as the \`trace\` message; the time runs from the post (the structured clone of the
  columnar payload included) to the end of the first frame that drew it. A fresh page per run;
  the median is shown.
- **Frame time**: 150 scroll steps (small moves and page jumps) and 150 ctrl+wheel zoom steps
  on a loaded 100k- and 1M-span trace; each frame's drawing time (rows, axis, minimap). The
  interval between frames is bounded by the 60 Hz frame clock in a headless browser and shown
  for reference.
- **Live delay**: spans sent as OTLP/HTTP JSON to a real receiver (\`startServer\`) at 5,000
  spans/s (50 every 10 ms, a new 500-span trace every 100 ms, its root last). On each
  coalesced engine change the latest trace is analysed and turned into a payload by
  \`buildTracePayload\`, streamed to the page over Server-Sent Events (standing in for
  \`webview.postMessage\`). Delay = time from sending a span to the first painted frame whose
  trace holds it. The first second is warm-up. Following the latest trace, the view moves on
  when a newer trace arrives, so spans whose trace was replaced before they were drawn are not
  counted (the count measured is given below). The load average when the run ended is shown,
  as the figure is sensitive to other work on the machine.

| figure | result | goal |
| --- | ---: | --- |
| first paint, 10k spans | ${summary.firstPaintMs10k} ms | |
| first paint, 100k spans | ${summary.firstPaintMs100k} ms | < 500 ms: ${ok(summary.firstPaintMs100k, 500)} |
| first paint, 1M spans | ${summary.firstPaintMs1M} ms | < 3 s: ${ok(summary.firstPaintMs1M, 3000)} |
| frame draw p95 (scroll + zoom, 100k and 1M) | ${summary.frameP95Ms} ms | < 16 ms: ${ok(summary.frameP95Ms, 16)} |
| frame interval p95 | ${summary.frameIntervalP95Ms} ms | (vsync-bound) |
| live delay p50 / p95 at 5,000 spans/s | ${summary.liveP50Ms} / ${summary.liveP95Ms} ms | p95 < 100 ms: ${ok(summary.liveP95Ms, 100)} |

Details: ${frameLine('100k', f100k)}; ${frameLine('1M', f1m)}. Live: ${lv.spansSent} spans,
${lv.updates} payloads posted, ${lv.delays.length} spans measured; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')}.

Reproduce with:

\`\`\`sh
npm run bench:webview
\`\`\`

\`--no-docs\` leaves this file alone; \`--live-seconds=N\` runs the live part longer.
${DOCS_END}`;
      const file = writeBenchSection(root, 'webview', section);
      console.log(`wrote ${path.relative(root, file)}`);
    }
    console.log(JSON.stringify(summary));
  } finally {
    await browser.close();
    await harness.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
