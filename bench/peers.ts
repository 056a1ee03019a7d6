/**
 * `npm run bench:peers`: Stagelight (`stagelight serve`, the built dist/cli.js with its analysis
 * on) against Jaeger v2 (its OTLP receiver into memory storage), on the same machine, with the
 * same pre-encoded batches and the same sender:
 * - spans/s over OTLP/gRPC and over OTLP/HTTP protobuf, 4 requests in flight;
 * - receiver CPU µs per span: utime + stime from /proc/<pid>/stat, from before the first timed
 *   request until Stagelight's background analysis has analysed every trace and made an
 *   insights report after that, and then the process is quiet again (so that work is counted);
 * - memory per stored span: RSS growth over the stored spans for both, plus Stagelight's own
 *   count (`/api/health` `memory`) and Jaeger's Go heap (its collector metrics); the shipped
 *   Stagelight has no GC hook and Jaeger's GC cannot be forced from outside, so RSS is the
 *   figure compared;
 * - trace-by-id read latency once each holds ~100k spans (Stagelight `GET /api/traces/{id}`,
 *   Jaeger `GET /api/v3/traces/{id}`), p50/p95 over random stored ids, each answer checked to
 *   hold the trace's spans;
 * - that each stored every span: Stagelight's `/api/health` span count, Jaeger's exporter count
 *   of spans written to its storage.
 *
 * Both receivers run pinned with taskset to the same single CPU; Jaeger gets GOMAXPROCS=1, Node
 * nothing extra (its helper threads share that CPU). One fresh process per receiver, transport
 * and run; runs alternate which receiver goes first; figures are medians.
 *
 * The last line of output is one JSON object (`Ratios`: Stagelight over Jaeger). The results are
 * written into docs/benchmarks.md between the `bench:peers` markers.
 *
 * Options: --runs=N (3), --spans=N stored per phase (100000), --reads=N (300), --in-flight=N (4),
 * --cpu=N (the last CPU), --quick (1 run, 20k spans, 60 reads: for trying it out; leaves the docs
 * alone), --no-docs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  JAEGER_VERSION,
  freePort,
  startJaeger,
  type RunningJaeger,
} from '../scripts/lib/jaeger.js';
import { seededRandom } from '../test/unit/helpers/random.js';
import { BatchSource, generateTemplates, SPANS_PER_BATCH, SPANS_PER_TRACE } from './batches.js';
import { docsMarkers, machine, writeBenchSection } from './lib/docs.js';
import {
  cpuWhenQuiet,
  grpcSender,
  httpSender,
  median,
  procRssBytes,
  quantile,
  sendAll,
  type Sender,
} from './lib/load.js';

const COMMAND = 'npm run bench:peers';
const { start: DOCS_START, end: DOCS_END } = docsMarkers('peers');
/** Requests sent before the measured stretch (JIT, connection set-up, first allocations). */
const WARMUP_BATCHES = 10;
const READ_WARMUP = 20;

type Peer = 'stagelight' | 'jaeger';
type Transport = 'grpc' | 'http';
const PEERS: readonly Peer[] = ['stagelight', 'jaeger'];
const TRANSPORTS: readonly Transport[] = ['grpc', 'http'];

interface Options {
  runs: number;
  spans: number;
  reads: number;
  inFlight: number;
  cpu: number;
  quick: boolean;
  docs: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const quick = argv.includes('--quick');
  const num = (name: string, dflt: number): number => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    const v = a === undefined ? dflt : Number(a.slice(name.length + 3));
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number`);
    return v;
  };
  const opts: Options = {
    runs: num('runs', quick ? 1 : 3),
    spans: num('spans', quick ? 20_000 : 100_000),
    reads: num('reads', quick ? 60 : 300),
    inFlight: num('in-flight', 4),
    cpu: num('cpu', os.availableParallelism() - 1),
    quick,
    docs: !quick && !argv.includes('--no-docs'),
  };
  if (opts.runs < 1 || opts.inFlight < 1 || opts.reads < 1) {
    throw new Error('--runs, --in-flight and --reads must be at least 1');
  }
  if (opts.spans < (WARMUP_BATCHES + 1) * SPANS_PER_BATCH) {
    throw new Error(`--spans must be at least ${(WARMUP_BATCHES + 1) * SPANS_PER_BATCH}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// The two receivers behind one interface.

interface Receiver {
  pid: number;
  grpcPort: number;
  httpPort: number;
  /** The URL that answers one trace by its id. */
  traceUrl(traceId: string): string;
  /** Spans in one answer of `traceUrl`. */
  spansIn(body: unknown): number;
  /** Spans stored, as the receiver itself counts them. */
  storedSpans(): Promise<number>;
  /** Stagelight: its own count of bytes held; Jaeger: its Go heap in use after a forced GC. */
  ownBytes(): Promise<number>;
  /**
   * Resolves once the work the receiver does after answering is done for `traces` traces
   * (Stagelight: each analysed, and an insights report made after that), so that the CPU
   * reading counts it; a trace settles a second after its last span, and a quiet process in
   * that second would otherwise end the reading before the analysis began.
   */
  caughtUp?(traces: number): Promise<void>;
  stop(): Promise<void>;
}

interface OtlpJson {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }>;
}

function otlpSpanCount(req: OtlpJson): number {
  let n = 0;
  for (const rs of req.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function startStagelight(root: string, cpu: number): Promise<Receiver> {
  // As shipped: the built CLI with its defaults (analysis and statistics on); only the ports
  // and the console are chosen here.
  const child: ChildProcess = spawn(
    'taskset',
    [
      '-c',
      String(cpu),
      process.execPath,
      path.join(root, 'dist', 'cli.js'),
      'serve',
      '--grpc-port=0',
      '--http-port=0',
      '--strict-ports',
      '--quiet',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const g = /OTLP\/gRPC\s+http:\/\/[^:]+:(\d+)/.exec(out);
    const h = /OTLP\/HTTP\s+http:\/\/[^:]+:(\d+)/.exec(out);
    if (g && h) {
      const httpPort = Number(h[1]);
      const api = `http://127.0.0.1:${httpPort}/api`;
      const health = () =>
        getJson<{
          spans: number;
          memory: { total: number };
          analysis: { analysedAtReport: number; skippedLarge: number; failed: number };
        }>(`${api}/health`);
      return {
        // taskset execs node: the pid is the receiver's own.
        pid: child.pid!,
        grpcPort: Number(g[1]),
        httpPort,
        traceUrl: (id) => `${api}/traces/${id}`,
        spansIn: (body) => otlpSpanCount(body as OtlpJson),
        storedSpans: async () => (await health()).spans,
        ownBytes: async () => (await health()).memory.total,
        caughtUp: async (traces) => {
          // Every trace analysed, and a report begun after the last of them was.
          const deadline = Date.now() + 60_000;
          for (;;) {
            const a = (await health()).analysis;
            if (a.analysedAtReport + a.skippedLarge + a.failed >= traces) return;
            if (Date.now() > deadline) {
              throw new Error(`analysis did not catch up: ${JSON.stringify(a)}`);
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`stagelight serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One sample of the collector's Prometheus metrics (summed over label sets). */
async function jaegerMetric(j: RunningJaeger, name: string): Promise<number> {
  const text = await (await fetch(j.metricsUrl!)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      found = true;
    }
  }
  if (!found) throw new Error(`jaeger metrics have no ${name}`);
  return sum;
}

async function startJaegerPeer(cpu: number): Promise<Receiver> {
  const j = await startJaeger({
    cpus: String(cpu),
    maxProcs: 1,
    metricsPort: await freePort(),
    pprofPort: await freePort(),
  });
  return {
    pid: j.pid,
    grpcPort: j.ports.otlpGrpc,
    httpPort: j.ports.otlpHttp,
    traceUrl: (id) => `${j.queryUrl}/api/v3/traces/${id}`,
    spansIn: (body) => otlpSpanCount((body as { result: OtlpJson }).result),
    storedSpans: async () => {
      const refused = await jaegerMetric(j, 'otelcol_receiver_refused_spans_total');
      const failed = await jaegerMetric(j, 'otelcol_exporter_send_failed_spans_total');
      if (refused + failed > 0) throw new Error(`jaeger refused ${refused}, failed ${failed}`);
      return jaegerMetric(j, 'otelcol_exporter_sent_spans_total');
    },
    ownBytes: async () => {
      // `gc=1`: Go collects garbage before it reports, so this is the live heap.
      const text = await (await fetch(`${j.pprofUrl!}/heap?gc=1&debug=1`)).text();
      const m = /^# HeapAlloc = (\d+)$/m.exec(text);
      if (!m) throw new Error('jaeger pprof heap has no HeapAlloc');
      return Number(m[1]);
    },
    stop: () => j.stop(),
  };
}

// ---------------------------------------------------------------------------------------------
// One phase: a fresh receiver, one transport.

interface PhaseResult {
  peer: Peer;
  transport: Transport;
  spansPerSec: number;
  cpuUsPerSpan: number;
  rssPerSpan: number;
  /** Stagelight: its counted bytes per span; Jaeger: Go heap growth (after GC) per span. */
  ownPerSpan: number;
  stored: number;
  readP50Ms: number;
  readP95Ms: number;
}

async function timedReads(r: Receiver, traceIds: readonly string[], n: number, seed: number) {
  const rnd = seededRandom(seed);
  const pick = () => traceIds[Math.floor(rnd() * traceIds.length)]!;
  const times: number[] = [];
  for (let i = 0; i < READ_WARMUP + n; i++) {
    const id = pick();
    const t0 = performance.now();
    const res = await fetch(r.traceUrl(id));
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${r.traceUrl(id)}: HTTP ${res.status}`);
    const spans = r.spansIn(JSON.parse(text));
    if (spans !== SPANS_PER_TRACE) throw new Error(`trace ${id}: ${spans} spans`);
    if (i >= READ_WARMUP) times.push(ms);
  }
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95) };
}

async function phase(
  root: string,
  peer: Peer,
  transport: Transport,
  source: BatchSource,
  opts: Options,
  seed: number,
): Promise<PhaseResult> {
  const r =
    peer === 'stagelight' ? await startStagelight(root, opts.cpu) : await startJaegerPeer(opts.cpu);
  const sender: Sender =
    transport === 'grpc' ? grpcSender(r.grpcPort) : httpSender(r.httpPort, opts.inFlight);
  try {
    const total = Math.ceil(opts.spans / SPANS_PER_BATCH);
    const warm = source.takeTraced(WARMUP_BATCHES);
    await sendAll(warm.bodies, opts.inFlight, sender.send);
    // Requests are copied before the clock starts: the sender's copying is not timed.
    const { bodies, traceIds } = source.takeTraced(total - WARMUP_BATCHES);
    globalThis.gc?.();
    // Jaeger's reading forces a GC: taken before the CPU baseline and after the final CPU.
    const own0 = await r.ownBytes();
    const cpu0 = await cpuWhenQuiet(r.pid);
    const rss0 = procRssBytes(r.pid);
    const ms = await sendAll(bodies, opts.inFlight, sender.send);
    await r.caughtUp?.(total * (SPANS_PER_BATCH / SPANS_PER_TRACE));
    const cpu1 = await cpuWhenQuiet(r.pid);
    const rss1 = procRssBytes(r.pid);
    const own1 = await r.ownBytes();
    const measured = bodies.length * SPANS_PER_BATCH;
    const stored = await r.storedSpans();
    if (stored !== total * SPANS_PER_BATCH) {
      throw new Error(`${peer} holds ${stored} spans, sent ${total * SPANS_PER_BATCH}`);
    }
    const reads = await timedReads(r, [...warm.traceIds, ...traceIds], opts.reads, seed);
    return {
      peer,
      transport,
      spansPerSec: (measured * 1000) / ms,
      cpuUsPerSpan: ((cpu1 - cpu0) * 1000) / measured,
      rssPerSpan: (rss1 - rss0) / measured,
      ownPerSpan: peer === 'stagelight' ? own1 / stored : (own1 - own0) / measured,
      stored,
      readP50Ms: reads.p50,
      readP95Ms: reads.p95,
    };
  } finally {
    sender.close();
    await r.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Summary and report.

interface PeerFigures {
  grpc: number;
  http: number;
  grpcCpuUs: number;
  httpCpuUs: number;
  rssPerSpan: number;
  ownPerSpan: number;
  readP50Ms: number;
  readP95Ms: number;
}

/** The last line of output: Stagelight over Jaeger, from the medians. */
interface Ratios {
  /** spans/s over gRPC. */
  grpcRatio: number;
  /** spans/s over HTTP protobuf. */
  httpRatio: number;
  /** CPU µs per span, the larger of the two transports' ratios (below 0.5: the goal). */
  cpuPerSpanRatio: number;
  /** RSS growth per stored span (at most 0.25: the goal). */
  memoryPerSpanRatio: number;
}

function figures(results: readonly PhaseResult[], peer: Peer): PeerFigures {
  const of = (t: Transport) => results.filter((r) => r.peer === peer && r.transport === t);
  const all = results.filter((r) => r.peer === peer);
  return {
    grpc: median(of('grpc').map((r) => r.spansPerSec)),
    http: median(of('http').map((r) => r.spansPerSec)),
    grpcCpuUs: median(of('grpc').map((r) => r.cpuUsPerSpan)),
    httpCpuUs: median(of('http').map((r) => r.cpuUsPerSpan)),
    rssPerSpan: median(all.map((r) => r.rssPerSpan)),
    ownPerSpan: median(all.map((r) => r.ownPerSpan)),
    readP50Ms: median(all.map((r) => r.readP50Ms)),
    readP95Ms: median(all.map((r) => r.readP95Ms)),
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const x2 = (x: number) => `${x.toFixed(2)}x`;

function ratios(s: PeerFigures, j: PeerFigures): Ratios {
  return {
    grpcRatio: r2(s.grpc / j.grpc),
    httpRatio: r2(s.http / j.http),
    cpuPerSpanRatio: r2(Math.max(s.grpcCpuUs / j.grpcCpuUs, s.httpCpuUs / j.httpCpuUs)),
    memoryPerSpanRatio: r2(s.rssPerSpan / j.rssPerSpan),
  };
}

/** A table whose first `textColumns` columns are left-aligned, the rest (figures) right. */
function markdownTable(
  header: readonly string[],
  body: readonly string[][],
  textColumns = 1,
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i < textColumns ? '---' : '---:'));
  return [line(header), line(align), ...body.map(line)].join('\n');
}

function resultsTable(s: PeerFigures, j: PeerFigures): string {
  const row = (name: string, f: PeerFigures, own: string) => [
    name,
    fmt(f.grpc),
    fmt(f.http),
    `${f.grpcCpuUs.toFixed(2)} / ${f.httpCpuUs.toFixed(2)}`,
    fmt(f.rssPerSpan),
    own,
    `${f.readP50Ms.toFixed(2)} / ${f.readP95Ms.toFixed(2)}`,
  ];
  return markdownTable(
    [
      '',
      'gRPC spans/s',
      'HTTP spans/s',
      'CPU µs/span gRPC / HTTP',
      'RSS bytes/span',
      'own count bytes/span',
      'read by id p50 / p95 ms',
    ],
    [
      row('Stagelight (`stagelight serve`)', s, `${fmt(s.ownPerSpan)} (counted)`),
      row(
        `Jaeger ${JAEGER_VERSION} (memory storage)`,
        j,
        `${fmt(j.ownPerSpan)} (Go heap after GC)`,
      ),
      [
        'Stagelight / Jaeger',
        x2(s.grpc / j.grpc),
        x2(s.http / j.http),
        `${x2(s.grpcCpuUs / j.grpcCpuUs)} / ${x2(s.httpCpuUs / j.httpCpuUs)}`,
        x2(s.rssPerSpan / j.rssPerSpan),
        '-',
        `${x2(s.readP50Ms / j.readP50Ms)} / ${x2(s.readP95Ms / j.readP95Ms)}`,
      ],
    ],
  );
}

function runsTable(results: readonly PhaseResult[]): string {
  return markdownTable(
    [
      'run',
      'receiver',
      'transport',
      'spans/s',
      'CPU µs/span',
      'RSS bytes/span',
      'own bytes/span',
      'read p50 / p95 ms',
      'stored',
    ],
    results.map((r, i) => [
      String(Math.floor(i / (PEERS.length * TRANSPORTS.length)) + 1),
      r.peer,
      r.transport,
      fmt(r.spansPerSec),
      r.cpuUsPerSpan.toFixed(2),
      fmt(r.rssPerSpan),
      fmt(r.ownPerSpan),
      `${r.readP50Ms.toFixed(2)} / ${r.readP95Ms.toFixed(2)}`,
      fmt(r.stored),
    ]),
    3,
  );
}

function goals(s: PeerFigures, j: PeerFigures): string {
  const perCpuGrpc = s.grpcCpuUs > 0 ? j.grpcCpuUs / s.grpcCpuUs : 0;
  const perCpuHttp = s.httpCpuUs > 0 ? j.httpCpuUs / s.httpCpuUs : 0;
  const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
  const mem = s.rssPerSpan / j.rssPerSpan;
  return `Goals:
- at least 2x Jaeger's spans per receiver CPU second on both transports: ${met(
    perCpuGrpc >= 2 && perCpuHttp >= 2,
  )} (${x2(perCpuGrpc)} over gRPC, ${x2(perCpuHttp)} over HTTP);
- at most a quarter of Jaeger's memory per stored span (RSS growth): ${met(mem <= 0.25)}
  (${x2(mem)}: ${fmt(s.rssPerSpan)} vs ${fmt(j.rssPerSpan)} bytes/span).`;
}

function docsSection(
  opts: Options,
  results: readonly PhaseResult[],
  s: PeerFigures,
  j: PeerFigures,
  machineLine: string,
): string {
  const date = new Date().toISOString().slice(0, 10);
  const batches = Math.ceil(opts.spans / SPANS_PER_BATCH);
  const stored = fmt(batches * SPANS_PER_BATCH);
  const timed = fmt(batches - WARMUP_BATCHES);
  return `${DOCS_START}
## Against Jaeger (\`${COMMAND}\`)

_Written by \`bench/peers.ts\` on ${date}; rerun the command to refresh this section._

**What is measured.** Stagelight as users run it (the built \`dist/cli.js serve\` with its
defaults: background analysis and statistics on, no \`--data\`) against Jaeger ${JAEGER_VERSION}
(Jaeger v2, the OpenTelemetry Collector based one) on the same machine, fed the same requests by
the same sender: spans/s over OTLP/gRPC and over OTLP/HTTP protobuf, receiver CPU µs per span,
memory per stored span, and the latency of reading one trace by id once each holds ${stored}
spans.

**Jaeger's configuration** (\`scripts/lib/jaeger.ts\`, built from the Go module proxy with the
machine's Go): the \`otlp\` receiver (gRPC with \`max_recv_msg_size_mib: 64\`, HTTP), no
processors, the \`jaeger_storage_exporter\` into \`memory\` storage (\`max_traces: 1000000\`), the
\`jaeger_query\` extension (API v3 and the UI's API; its self-tracing off), \`healthcheckv2\`,
logs at \`warn\`, collector metrics at level \`basic\` with a Prometheus pull reader (read for
the span count) and the \`pprof\` extension (read for the Go heap). Everything on 127.0.0.1.

**How.**
- Requests are the ones \`bench:ingest\` sends (\`bench/batches.ts\`): 512 spans per
  \`ExportTraceServiceRequest\`, made by the OpenTelemetry JS SDK and encoded by its
  \`ProtobufTraceSerializer\`, 8 spans per trace; every copy carries fresh trace ids.
- One fresh receiver process per receiver, transport and run, pinned with
  \`taskset -c ${opts.cpu}\` (the same single CPU for both); Jaeger with \`GOMAXPROCS=1\`; Node
  with nothing extra (its helper threads share the CPU). The sender (this script: a grpc-js
  client with identity serializers, a keep-alive \`node:http\` client) is not pinned and keeps
  ${opts.inFlight} requests in flight.
- ${WARMUP_BATCHES} warm-up requests, then ${timed} timed ones. **spans/s**: from the first
  timed request to the last answer. **CPU µs/span**: utime + stime from \`/proc/<pid>/stat\`,
  from just before the timed requests until the process is quiet again (under 3 ms of CPU in
  250 ms); for Stagelight first until \`/api/health\` \`analysis\` shows every trace sent
  analysed before an insights report began (polled every 50 ms), so the work done
  after answering is counted: a trace settles a second after its last span, and a quiet
  second before that ended the reading early in an earlier version of this script.
  **RSS bytes/span**:
  growth of \`VmRSS\` over the same stretch, per timed span: the figure compared, since the
  shipped CLI has no hook to force a GC. Beside it, each one's own figure: Stagelight's count
  of bytes held (\`/api/health\` \`memory.total\`) per stored span; Jaeger's Go heap growth
  per timed span, after a forced GC (\`HeapAlloc\` of its pprof heap report with \`gc=1\`).
- Then each proves it stored every span (Stagelight: \`/api/health\` \`spans\`; Jaeger: its
  exporter's \`otelcol_exporter_sent_spans_total\` into storage, with nothing refused or failed)
  and answers ${opts.reads} reads of random stored trace ids (after ${READ_WARMUP} warm-up ones),
  one at a time: Stagelight \`GET /api/traces/{id}\`, Jaeger \`GET /api/v3/traces/{id}\`, both
  OTLP JSON; each answer must hold the trace's ${SPANS_PER_TRACE} spans. Latency is to the last
  byte of the answer.
- ${opts.runs} runs; each runs gRPC then HTTP, and alternates which receiver goes first; medians.

**Machine.** ${machineLine}. The machine's cores are shared with other work, so the figures
move from run to run.

**Results** (medians of ${opts.runs} runs):

${resultsTable(s, j)}

${goals(s, j)}

Each phase:

${runsTable(results)}

Reproduce with:

\`\`\`sh
${COMMAND}
\`\`\`

\`npm run bench:peers -- --quick\` tries it out (1 run of 20k spans, this file left alone);
\`--runs=N\`, \`--spans=N\`, \`--reads=N\`, \`--cpu=N\` and \`--no-docs\` change the rest.
${DOCS_END}`;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const root = path.resolve(__dirname, '..');
  const machineLine = machine();
  const t0 = performance.now();
  const source = new BatchSource(generateTemplates());
  const results: PhaseResult[] = [];
  for (let run = 0; run < opts.runs; run++) {
    const order = run % 2 === 0 ? PEERS : [...PEERS].reverse();
    for (const transport of TRANSPORTS) {
      for (const peer of order) {
        const r = await phase(root, peer, transport, source, opts, run * 10 + results.length);
        results.push(r);
        console.log(
          `run ${run + 1} ${peer.padEnd(10)} ${transport.padEnd(4)} ${fmt(r.spansPerSec).padStart(9)} spans/s ` +
            `${r.cpuUsPerSpan.toFixed(2).padStart(7)} µs/span ${fmt(r.rssPerSpan).padStart(6)} B/span RSS ` +
            `reads p50 ${r.readP50Ms.toFixed(2)} ms p95 ${r.readP95Ms.toFixed(2)} ms`,
        );
      }
    }
  }
  const s = figures(results, 'stagelight');
  const j = figures(results, 'jaeger');
  console.log(`\n${resultsTable(s, j)}\n\n${goals(s, j)}`);
  if (opts.docs) {
    const file = writeBenchSection(root, 'peers', docsSection(opts, results, s, j, machineLine));
    console.log(`\nwrote ${path.relative(root, file)}`);
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  console.log(JSON.stringify(ratios(s, j)));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
