/**
 * `npm run bench:soak`: `stagelight serve` as users run it (analysis and statistics on), with a
 * memory budget of 256 MiB, fed 20k spans/s over OTLP/gRPC and OTLP/HTTP together for 10 minutes
 * (`-- --seconds=N` for shorter), while a UI's polling runs against it: `/api/health` every
 * 100 ms, `/api/traces` every 500 ms, `/api/stats` every second, `/api/insights` every 1.5 s.
 *
 * It reports the receiver's RSS over time against the budget, what was evicted (received - held),
 * ingest errors, spans lost (sent and acknowledged, but neither held nor counted as evicted) and
 * the latency of `/api/health`, whose p99 shows whether the background analysis, which runs in
 * slices of about 4 ms, ever holds the event loop longer.
 *
 * The last line of output is one JSON object: `{"rssMaxMiB", "budgetMiB", "healthP99Ms",
 * "ingestErrors", "lost", ...}`; the results are also written into docs/benchmarks.md between
 * the `bench:soak` markers (`--no-docs` leaves it alone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as esbuild from 'esbuild';
import type { MemoryUsage } from '../src/core/memory-budget.js';
import type { PausesReply, ProbeReply } from './lib/process-probe.js';
import { BatchSource, generateTemplates, SPANS_PER_BATCH } from './batches.js';
import { docsMarkers, writeBenchSection } from './lib/docs.js';
import { grpcSender, httpSender } from './lib/load.js';

const COMMAND = 'npm run bench:soak';
const MIB = 2 ** 20;
/**
 * What the process may hold beyond its budget (RSS): code and the runtime (about 60 MiB idle),
 * the collector's headroom over live bytes and freed buffers the allocator keeps.
 */
const FIXED_OVERHEAD_MIB = 192;

interface Options {
  seconds: number;
  rate: number;
  budgetMib: number;
  docs: boolean;
  cpuProfDir: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const num = (name: string, dflt: number): number => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    const v = a === undefined ? dflt : Number(a.slice(name.length + 3));
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  return {
    seconds: num('seconds', 600),
    rate: num('rate', 20_000),
    budgetMib: num('budget-mib', 256),
    docs: !argv.includes('--no-docs'),
    cpuProfDir: argv.find((x) => x.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length),
  };
}

interface Health {
  spans: number;
  traces: number;
  evicted: { traces: number; spans: number };
  counters: { receivedSpans: number; acceptedSpans: number; failedRequests: number };
  memory: MemoryUsage;
}

/** The probe (`bench/lib/process-probe.ts`), bundled: GC pauses, loop delays, memory after GC. */
async function buildProbe(root: string): Promise<string> {
  const outfile = path.join(root, '.cache', 'bench-soak', 'process-probe.cjs');
  await esbuild.build({
    entryPoints: [path.join(root, 'bench', 'lib', 'process-probe.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  return outfile;
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m: T) => resolve(m));
    child.send({ type });
  });
}

async function startServe(root: string, budgetMib: number, probe: string, prof?: string) {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--require',
      probe,
      ...(prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`]),
      path.join(root, 'dist', 'cli.js'),
      'serve',
      '--grpc-port=0',
      '--http-port=0',
      '--strict-ports',
      '--quiet',
      `--max-memory-mib=${budgetMib}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const g = /OTLP\/gRPC\s+http:\/\/[^:]+:(\d+)/.exec(out);
    const h = /OTLP\/HTTP\s+http:\/\/[^:]+:(\d+)/.exec(out);
    if (g && h) return { child, grpcPort: Number(g[1]), httpPort: Number(h[1]) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** RSS and CPU time of a process, from /proc (Linux). */
function procStats(pid: number): { rss: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { rss, cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 };
}

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function timedGet(
  agent: Agent,
  port: number,
  p: string,
): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve({ ms: performance.now() - t0, body })
          : reject(new Error(`${p}: HTTP ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

interface Sample {
  t: number;
  rssMiB: number;
  countedMiB: number;
  spans: number;
  evicted: number;
  cpu: number;
}

async function main(): Promise<void> {
  const script = path.resolve(process.argv[1]!);
  const root = path.resolve(path.dirname(script), '..');
  const opts = parseOptions(process.argv.slice(2));
  const source = new BatchSource(generateTemplates());
  const loadStart = os.loadavg();
  const probe = await buildProbe(root);
  const { child, grpcPort, httpPort } = await startServe(
    root,
    opts.budgetMib,
    probe,
    opts.cpuProfDir,
  );
  const exited = new Promise((r) => child.once('exit', r));
  const pid = child.pid!;
  const idle = procStats(pid);
  console.log(
    `Soak: ${opts.rate} spans/s for ${opts.seconds} s, budget ${opts.budgetMib} MiB; ` +
      `idle RSS ${(idle.rss / MIB).toFixed(0)} MiB; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const grpcIngest = grpcSender(grpcPort);
  const httpIngest = httpSender(httpPort, 8);
  const pollAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  const sendGrpc = grpcIngest.send;
  const sendHttp = httpIngest.send;

  let sentSpans = 0;
  let ackedSpans = 0;
  let ingestErrors = 0;
  let inFlight = 0;
  let batches = 0;
  const firstError: string[] = [];
  const t0 = performance.now();
  const endAt = t0 + opts.seconds * 1000;
  const healthMs: number[] = [];
  const samples: Sample[] = [];
  let lastHealth: Health | undefined;
  let pollErrors = 0;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, f: () => Promise<void>) => {
    let busy = false;
    timers.push(
      setInterval(() => {
        if (busy) return;
        busy = true;
        f()
          .catch(() => pollErrors++)
          .finally(() => (busy = false));
      }, ms),
    );
  };
  // The sender: batches of 512 spans, alternately over gRPC and HTTP, paced to the rate.
  timers.push(
    setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * (opts.rate / SPANS_PER_BATCH));
      while (batches < due && inFlight < 16) {
        const body = source.take(1)[0]!;
        const send = batches % 2 === 0 ? sendGrpc : sendHttp;
        batches++;
        inFlight++;
        sentSpans += SPANS_PER_BATCH;
        send(body)
          .then(() => (ackedSpans += SPANS_PER_BATCH))
          .catch((e: Error) => {
            ingestErrors++;
            if (firstError.length === 0) firstError.push(e.message);
          })
          .finally(() => inFlight--);
      }
    }, 10),
  );
  every(100, async () => {
    const r = await timedGet(pollAgent, httpPort, '/api/health');
    healthMs.push(r.ms);
    lastHealth = JSON.parse(r.body) as Health;
  });
  every(500, async () => void (await timedGet(pollAgent, httpPort, '/api/traces?limit=200')));
  every(1000, async () => void (await timedGet(pollAgent, httpPort, '/api/stats')));
  every(1500, async () => void (await timedGet(pollAgent, httpPort, '/api/insights')));
  const sampleEvery = Math.max(1, Math.round(opts.seconds / 60));
  let nextPrint = 0;
  await new Promise<void>((resolve) => {
    timers.push(
      setInterval(() => {
        const t = (performance.now() - t0) / 1000;
        const p = procStats(pid);
        const h = lastHealth;
        samples.push({
          t,
          rssMiB: p.rss / MIB,
          countedMiB: (h?.memory.total ?? 0) / MIB,
          spans: h?.spans ?? 0,
          evicted: h?.evicted.spans ?? 0,
          cpu: p.cpuMs,
        });
        if (t >= nextPrint) {
          nextPrint += sampleEvery * 10;
          console.log(
            `${t.toFixed(0).padStart(4)} s  RSS ${(p.rss / MIB).toFixed(0)} MiB  counted ` +
              `${((h?.memory.total ?? 0) / MIB).toFixed(0)} MiB  held ${h?.spans ?? 0}  evicted ` +
              `${h?.evicted.spans ?? 0}  health p99 ${quantile(healthMs, 0.99).toFixed(1)} ms`,
          );
        }
        if (performance.now() >= endAt) resolve();
      }, 1000),
    );
  });
  for (const t of timers) clearInterval(t);
  // Let what is in flight land, then read the final counts.
  const drainUntil = Date.now() + 10_000;
  while (inFlight > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  const final = JSON.parse((await timedGet(pollAgent, httpPort, '/api/health')).body) as Health;
  const elapsed = (performance.now() - t0) / 1000;
  const cpuShare = (procStats(pid).cpuMs - idle.cpuMs) / 1000 / elapsed;
  const loadEnd = os.loadavg();
  const pauses = await ask<PausesReply>(child, 'pauses');
  const settled = await ask<ProbeReply>(child, 'probe');
  grpcIngest.close();
  httpIngest.close();
  pollAgent.destroy();
  child.kill('SIGTERM');
  child.disconnect();
  await exited;

  const rssMax = Math.max(...samples.map((s) => s.rssMiB));
  const received = final.counters.receivedSpans;
  const summary = {
    rssMaxMiB: Math.round(rssMax),
    budgetMiB: opts.budgetMib,
    healthP99Ms: Math.round(quantile(healthMs, 0.99) * 100) / 100,
    ingestErrors,
    lost: ackedSpans - final.spans - final.evicted.spans,
    healthP50Ms: Math.round(quantile(healthMs, 0.5) * 100) / 100,
    healthMaxMs: Math.round(Math.max(...healthMs) * 100) / 100,
    healthRequests: healthMs.length,
    sentSpans,
    receivedSpans: received,
    heldSpans: final.spans,
    evictedSpans: received - final.spans,
    countedMaxMiB: Math.round(Math.max(...samples.map((s) => s.countedMiB))),
    idleRssMiB: Math.round(idle.rss / MIB),
    fixedOverheadMiB: FIXED_OVERHEAD_MIB,
    receiverCpu: Math.round(cpuShare * 100) / 100,
    pollErrors,
    loopDelayP99Ms: pauses.loopDelayMs.p99,
    loopDelayMaxMs: pauses.loopDelayMs.max,
    gcPauses: pauses.gc.count,
    gcPauseMaxMs: pauses.gc.maxMs,
    gcPausesOver10ms: pauses.gc.over10ms,
    gcPauseTotalMs: pauses.gc.totalMs,
    /** Heap + external after forced GCs at the end: the live bytes behind the RSS. */
    liveAfterGcMiB: Math.round((settled.memory.heapUsed + settled.memory.external) / MIB),
    heapAfterGcMiB: Math.round(settled.memory.heapUsed / MIB),
    heapTotalAfterGcMiB: Math.round(settled.memory.heapTotal / MIB),
    externalAfterGcMiB: Math.round(settled.memory.external / MIB),
    rssAfterGcMiB: Math.round(settled.memory.rss / MIB),
    seconds: Math.round(elapsed),
    spansPerSec: Math.round(received / elapsed),
  };
  const withinBudget = rssMax <= opts.budgetMib + FIXED_OVERHEAD_MIB;
  console.log(
    `\nRSS max ${summary.rssMaxMiB} MiB (budget ${opts.budgetMib} MiB + ${FIXED_OVERHEAD_MIB} MiB: ` +
      `${withinBudget ? 'within' : 'OVER'}); health p50 ${summary.healthP50Ms} ms, p99 ` +
      `${summary.healthP99Ms} ms; ${ingestErrors} ingest errors${firstError.length ? ` (${firstError[0]})` : ''}; ` +
      `${summary.lost} lost; receiver CPU ${Math.round(cpuShare * 100)}% of a core; load average ` +
      `${loadEnd.map((l) => l.toFixed(2)).join(' ')} at the end`,
  );
  if (opts.docs) {
    const file = writeBenchSection(
      root,
      'soak',
      docsSection(summary, samples, opts, loadStart, loadEnd),
    );
    console.log(`wrote ${path.relative(root, file)}`);
  }
  console.log(JSON.stringify(summary));
}

function docsSection(
  s: Record<string, number>,
  samples: readonly Sample[],
  opts: Options,
  loadStart: number[],
  loadEnd: number[],
): string {
  const { start, end } = docsMarkers('soak');
  const goal = (ok: boolean) => (ok ? 'met' : '**not met**');
  const step = Math.max(1, Math.floor(samples.length / 12));
  const rows = samples
    .filter((_, i) => i % step === 0 || i === samples.length - 1)
    .map(
      (x) =>
        `| ${x.t.toFixed(0)} | ${x.rssMiB.toFixed(0)} | ${x.countedMiB.toFixed(0)} | ` +
        `${x.spans.toLocaleString('en-US')} | ${x.evicted.toLocaleString('en-US')} |`,
    );
  const cpus = os.cpus();
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return `${start}
## Soak (\`${COMMAND}\`)

_Written by \`bench/soak.ts\` on ${new Date().toISOString().slice(0, 10)}: ${s.seconds} s
(\`-- --seconds=${s.seconds}\`; the default is 600)._

**What is measured.** The built \`stagelight serve --max-memory-mib=${opts.budgetMib}\` (default
span budget, analysis and statistics on) fed ${opts.rate.toLocaleString('en-US')} spans/s of
SDK-made OTLP (512 spans per request, 8 per trace, alternately over gRPC and HTTP) while a UI's
polling runs: \`/api/health\` every 100 ms (its latency is the figure below), \`/api/traces?limit=200\`
every 500 ms, \`/api/stats\` every second, \`/api/insights\` every 1.5 s. RSS is read from
\`/proc\` every second, without forcing GCs; "counted" is what the receiver counts against its
budget (\`/api/health\` \`memory.total\`).

**Machine.** ${os.availableParallelism()} CPUs, ${cpus[0]?.model.trim() ?? ''}, shared: load
average ${load(loadStart)} at the start and ${load(loadEnd)} at the end; the receiver used
${Math.round(s.receiverCpu! * 100)}% of a core on average.

| figure | result | goal |
| --- | ---: | --- |
| RSS, max | ${s.rssMaxMiB} MiB (idle ${s.idleRssMiB} MiB) | < budget ${opts.budgetMib} MiB + ${FIXED_OVERHEAD_MIB} MiB: ${goal(s.rssMaxMiB! <= opts.budgetMib + FIXED_OVERHEAD_MIB)} |
| counted against the budget, max | ${s.countedMaxMiB} MiB | <= ${opts.budgetMib} MiB: ${goal(s.countedMaxMiB! <= opts.budgetMib)} |
| spans received / held / evicted | ${s.receivedSpans!.toLocaleString('en-US')} / ${s.heldSpans!.toLocaleString('en-US')} / ${s.evictedSpans!.toLocaleString('en-US')} | |
| ingest errors | ${s.ingestErrors} | 0: ${goal(s.ingestErrors === 0)} |
| spans lost (acknowledged, neither held nor evicted) | ${s.lost} | 0: ${goal(s.lost === 0)} |
| \`/api/health\` p50 / p99 / max | ${s.healthP50Ms} / ${s.healthP99Ms} / ${s.healthMaxMs} ms (${s.healthRequests} requests) | p99 < 10 ms: ${goal(s.healthP99Ms! < 10)} |

The fixed overhead, ${FIXED_OVERHEAD_MIB} MiB, is what the process holds beyond the budget: code
and the runtime (the idle RSS), the collector's headroom over the live bytes, and freed buffers
the allocator keeps for reuse.

Where the RSS goes, after forced GCs at the end: ${s.heapAfterGcMiB} MiB of heap in use, of
${s.heapTotalAfterGcMiB} MiB that V8 keeps committed, ${s.externalAfterGcMiB} MiB external (the
spans' bytes), ${s.rssAfterGcMiB} MiB RSS. The collector paused the main thread ${s.gcPauses}
times (${(s.gcPauseTotalMs! / 1000).toFixed(1)} s in all, the longest ${s.gcPauseMaxMs} ms,
${s.gcPausesOver10ms} over 10 ms); the event loop's delay was ${s.loopDelayP99Ms} ms at p99 and
${s.loopDelayMaxMs} ms at most.

RSS over time:

| s | RSS MiB | counted MiB | spans held | spans evicted |
| ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Reproduce with \`${COMMAND}\` (10 minutes) or \`${COMMAND} -- --seconds=180\`; \`--rate=N\`,
\`--budget-mib=N\`, \`--no-docs\`.
${end}`;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
