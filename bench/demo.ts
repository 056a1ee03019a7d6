/**
 * `npm run bench:demo`: per-stage latency of the demo pipeline on this machine's devices, and
 * the overhead of tracing itself (the same requests with the tracer on and off).
 *
 * Overhead: rounds alternate tracing on and off (same scenario, same requests, one request in
 * flight, so runs do not compete for cores), and the end-to-end latency the gateway measures is
 * compared. Options (environment): BENCH_SCALE (default 1), BENCH_REQUESTS per round (default
 * 12), BENCH_ROUNDS (default 3), BENCH_DEVICE (default auto). The last line of output is one JSON
 * object.
 */
import os from 'node:os';
import { runDemo, formatStageTable, type DemoResult } from '../demo/run-demo.js';
import { startServer } from '../src/core/server.js';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const requests = Number(process.env.BENCH_REQUESTS ?? 12);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const device = process.env.BENCH_DEVICE ?? 'auto';

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const server = await startServer({
    grpcPort: 0,
    httpPort: 0,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const common = {
    scenario: 'normal' as const,
    modelScale: scale,
    device,
    requests,
    concurrency: 1,
    endpoint: server.endpoints.grpc,
    apiUrl: server.endpoints.api,
  };
  try {
    // Warm the model cache and the OS page cache first.
    await runDemo({ ...common, requests: 2 });
    const on: number[] = [];
    const off: number[] = [];
    let traced: DemoResult | undefined;
    for (let r = 0; r < rounds; r++) {
      for (const tracing of r % 2 === 0 ? [true, false] : [false, true]) {
        const result = await runDemo({ ...common, tracing });
        const e2e = result.outcomes.filter((o) => o.ok).map((o) => o.durationMs);
        (tracing ? on : off).push(...e2e);
        if (tracing && traced === undefined) traced = result;
        console.error(
          `round ${r + 1} tracing ${tracing ? 'on ' : 'off'}: mean ${mean(e2e).toFixed(1)} ms, ` +
            `median ${median(e2e).toFixed(1)} ms over ${e2e.length}`,
        );
      }
    }
    const devices = [...new Set(traced?.devices.map((d) => `${d.stage}=${d.device}`) ?? [])];
    console.log(
      `\nDevices: ${devices.join(', ')}; model scale ${scale}; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})`,
    );
    console.log(`\n${formatStageTable(traced?.table ?? [])}\n`);
    const overheadPct = (100 * (mean(on) - mean(off))) / mean(off);
    const overheadMedianPct = (100 * (median(on) - median(off))) / median(off);
    const stage = (service: string, name: string) =>
      traced?.table?.find((row) => row.service === service && row.name === name);
    const row = (name: string) => {
      const s = stage('demo-gateway', name);
      return s === undefined
        ? undefined
        : { p50Ms: +s.p50Ms.toFixed(2), p95Ms: +s.p95Ms.toFixed(2) };
    };
    console.log(
      JSON.stringify({
        scale,
        device: devices.join(','),
        requestsPerMode: on.length,
        e2eMeanMsTracingOn: +mean(on).toFixed(1),
        e2eMeanMsTracingOff: +mean(off).toFixed(1),
        tracingOverheadPct: +overheadPct.toFixed(2),
        tracingOverheadMedianPct: +overheadMedianPct.toFixed(2),
        stages: Object.fromEntries(
          [
            'inference_request',
            'preprocessing',
            'embedding',
            'retrieve_documents',
            'reranking',
            'generation',
            'postprocessing',
          ].map((n) => [n, row(n)]),
        ),
      }),
    );
  } finally {
    await server.close();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
