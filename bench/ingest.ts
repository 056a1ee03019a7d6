/**
 * `npm run bench:ingest`: spans/s ingested over OTLP/gRPC and OTLP/HTTP (protobuf), receiver
 * CPU per span and memory held per span, for Stagelight as users run it (`stagelight serve`,
 * analysis and statistics on) and for a straightforward baseline (`bench/baseline-receiver.ts`),
 * side by side in one run, with a transport-only receiver as the ceiling.
 *
 * Design:
 * - Each receiver runs in its own child process, one fresh process per run (per transport for
 *   Stagelight). Memory is then measured on a heap that holds nothing but the receiver, and the
 *   sender (this process) does not share the receiver's event loop or its garbage collector.
 * - Stagelight is the built CLI, `dist/cli.js serve`, with a small probe preloaded
 *   (`bench/lib/process-probe.ts`) that, asked over IPC, waits until the process is quiet (the
 *   background analysis done), then reports its CPU time and its memory after forced GCs. The
 *   store is filled to 400k spans in one process: CPU per span is taken over the spans up to 50k
 *   and over 50k spans sent while the store holds 400k (evicting as it goes), so it shows whether
 *   the cost grows with the store; memory at 100k and 400k stored; spans/s over the stretch from
 *   100k to 400k.
 * - The batches are real OTLP: spans made by the OpenTelemetry JS SDK and encoded by
 *   `ProtobufTraceSerializer`, 512 per request. A few template batches are encoded once; every
 *   request sent is a copy with fresh trace ids patched into the bytes, so no span is ever a
 *   duplicate (Stagelight drops re-sent spans, which would flatter it).
 * - The baseline and the transport-only receiver are esbuild bundles built like `dist/`: per
 *   transport, starting from an empty store, memory after forced GCs, the timed phase, memory
 *   again.
 * - Runs alternate (Stagelight, baseline, transport only, Stagelight, ...); figures are medians.
 *
 * The last line of output is one JSON object (see `Summary`); the results are also written into
 * docs/benchmarks.md between the `bench:ingest` markers.
 *
 * Logs, in the same run (after the spans): records/s over each transport and bytes held per
 * stored record, Stagelight (`dist/cli.js serve`, a fresh process per transport) against the
 * baseline's logs receiver (`startBaselineLogsReceiver`: protobufjs decode, the decoded objects
 * kept, a `Map` by trace id). The requests are the JS logs SDK's (`bench/log-batches.ts`), 512
 * records each; memory is measured after the warm-up and after the timed requests, so the
 * figure is the growth per record. Their section of docs/benchmarks.md is `bench:ingest-logs`.
 *
 * Options: --runs=N (3), --batches=N per transport per run for the baseline and the ceiling
 * (200), --warmup=N batches per transport (20), --in-flight=N (4), --log-batches=N requests of
 * log records per transport per run (60: within the log store's default budget, so nothing is
 * evicted), --logs-only (skip the spans, for a quick run), --no-docs, --cpu-prof=DIR (profiles
 * the Stagelight process).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as esbuild from 'esbuild';
import type { MemoryUsage } from '../src/core/memory-budget.js';
import type { ProbeReply } from './lib/process-probe.js';
import type { DecodedRequest, RunningBaselineReceiver } from './baseline-receiver.js';
import {
  BatchSource,
  generateTemplates,
  SPANS_PER_BATCH,
  SPANS_PER_TRACE,
  type Template,
} from './batches.js';
import { formatCount } from '../src/shared/format.js';
import { generateLogBatches, LOG_RECORDS_PER_BATCH, LOG_RECORDS_PER_TRACE } from './log-batches.js';
import { docsMarkers, machine, writeBenchSection } from './lib/docs.js';
import { grpcSender, httpSender, median, procCpuMs, sendAll, type SendOne } from './lib/load.js';

const { start: DOCS_START, end: DOCS_END } = docsMarkers('ingest');
const COMMAND = 'npm run bench:ingest';

/** `transport` answers without decoding or storing: the ceiling of the transports. */
type ReceiverKind = 'stagelight' | 'baseline' | 'transport' | 'baseline-logs';

interface Options {
  runs: number;
  batches: number;
  warmup: number;
  inFlight: number;
  logBatches: number;
  logsOnly: boolean;
  docs: boolean;
  cpuProfDir: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const num = (name: string, dflt: number): number => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    const v = a === undefined ? dflt : Number(a.slice(name.length + 3));
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
    return v;
  };
  const prof = argv.find((x) => x.startsWith('--cpu-prof='));
  return {
    runs: num('runs', 3),
    batches: num('batches', 200),
    warmup: num('warmup', 20),
    inFlight: num('in-flight', 4),
    logBatches: num('log-batches', 60),
    logsOnly: argv.includes('--logs-only'),
    docs: !argv.includes('--no-docs'),
    cpuProfDir: prof === undefined ? undefined : path.resolve(prof.slice('--cpu-prof='.length)),
  };
}

// ---------------------------------------------------------------------------------------------
// The code under test, bundled.

/**
 * The baseline runs as an esbuild bundle built like `dist/` (esbuild.config.mjs: one CommonJS
 * file, dependencies included), and Stagelight as `dist/cli.js` itself: the code as shipped. Running `src/` through tsx instead
 * measures tsx's per-module CommonJS transform, where every imported binding (such as
 * `WireType.LEN` in the decoder's inner loop) is read through an export getter: that alone cost
 * Stagelight over a tenth of its ingest time when profiled.
 */
interface StagelightBundle {
  decodeTraceRequest: typeof import('../src/core/otlp/trace-request-decoder.js').decodeTraceRequest;
}
type BaselineBundle = typeof import('./baseline-receiver.js');

interface Bundles {
  /** Stagelight's decoder, to check the templates; the receiver itself runs as dist/cli.js. */
  stagelight: string;
  baseline: string;
  probe: string;
}

async function buildBundles(root: string): Promise<Bundles> {
  const outdir = path.join(root, '.cache', 'bench-ingest');
  const common: esbuild.BuildOptions = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  };
  const bundles: Bundles = {
    stagelight: path.join(outdir, 'stagelight.cjs'),
    baseline: path.join(outdir, 'baseline.cjs'),
    probe: path.join(outdir, 'process-probe.cjs'),
  };
  await Promise.all([
    esbuild.build({
      ...common,
      stdin: {
        contents:
          "export { decodeTraceRequest } from './src/core/otlp/trace-request-decoder.ts';\n",
        resolveDir: root,
        sourcefile: 'bench-ingest-stagelight.ts',
        loader: 'ts',
      },
      outfile: bundles.stagelight,
    }),
    esbuild.build({
      ...common,
      entryPoints: [path.join(root, 'bench', 'baseline-receiver.ts')],
      outfile: bundles.baseline,
    }),
    esbuild.build({
      ...common,
      entryPoints: [path.join(root, 'bench', 'lib', 'process-probe.ts')],
      outfile: bundles.probe,
    }),
  ]);
  return bundles;
}

function load<T>(bundle: string): T {
  return createRequire(bundle)(bundle) as T;
}

// ---------------------------------------------------------------------------------------------
// Child side: the baseline or the transport-only receiver, driven over IPC.

interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  external: number;
}

interface ChildState {
  memory: MemorySnapshot;
  /** CPU time (user + system) the receiver process had used before the forced GCs, in ms. */
  cpuMsBeforeGc: number;
  /** The same, after them. */
  cpuMsAfterGc: number;
  spans: number;
  traces: number;
  rejected: number;
}

type ToChild = { type: 'reset' } | { type: 'measure' } | { type: 'exit' };
type FromChild =
  { type: 'ready'; grpcPort: number; httpPort: number } | ({ type: 'state' } & ChildState);

/** Memory after the collector has run to a fixed point (weak refs and finalizers included). */
async function settledMemory(): Promise<MemorySnapshot> {
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

async function childMain(kind: ReceiverKind, bundle: string): Promise<void> {
  const send = (m: FromChild) => process.send!(m);
  const mod = load<BaselineBundle>(bundle);
  const baseline: RunningBaselineReceiver = await (kind === 'baseline'
    ? mod.startBaselineReceiver()
    : kind === 'baseline-logs'
      ? mod.startBaselineLogsReceiver()
      : mod.startTransportOnlyReceiver());
  send({ type: 'ready', grpcPort: baseline.grpcPort, httpPort: baseline.httpPort });
  const state = async (): Promise<ChildState> => {
    const cpuMs = () => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1000;
    };
    const cpuMsBeforeGc = cpuMs();
    const memory = await settledMemory();
    return {
      memory,
      cpuMsBeforeGc,
      cpuMsAfterGc: cpuMs(),
      spans: baseline.spanCount,
      traces: baseline.traceCount,
      rejected: 0,
    };
  };
  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.type === 'reset') {
        baseline.clear();
        send({ type: 'state', ...(await state()) });
      } else if (m.type === 'measure') {
        send({ type: 'state', ...(await state()) });
      } else {
        await baseline.close();
        process.exit(0);
      }
    })();
  });
}

/** Both decoders must read the same 512 spans out of a template before anything is timed. */
function checkTemplates(
  templates: readonly Template[],
  bundles: Bundles,
): { bytesPerBatch: number } {
  const { decodeTraceRequest } = load<StagelightBundle>(bundles.stagelight);
  const types = load<BaselineBundle>(bundles.baseline).loadOtlpTraceTypes();
  for (const t of templates) {
    const ours = decodeTraceRequest(t.bytes);
    if (ours.spans.length !== SPANS_PER_BATCH || ours.rejected !== 0) {
      throw new Error(`Stagelight decoded ${ours.spans.length}, rejected ${ours.rejected}`);
    }
    const req = types.request.decode(t.bytes) as unknown as DecodedRequest;
    const spans = req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    if (spans.length !== SPANS_PER_BATCH) throw new Error(`baseline decoded ${spans.length}`);
    spans.forEach((s, i) => {
      const o = ours.spans[i]!;
      if (s.traceId.toString('hex') !== o.traceId || s.name !== o.name) {
        throw new Error(`span ${i}: the two decoders disagree`);
      }
    });
  }
  return {
    bytesPerBatch: templates.reduce((a, t) => a + t.bytes.length, 0) / templates.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent side: runs, medians, report.

interface PhaseResult {
  spansPerSec: number;
  /** Growth of heapUsed + external per stored span. */
  bytesPerSpan: number;
  /** Growth of RSS per stored span. */
  rssBytesPerSpan: number;
  /** Share of one core the receiver process used during the phase. */
  receiverCpu: number;
  /**
   * Receiver CPU time per span (µs), GC threads included: less sensitive than spans/s to other
   * load on the machine.
   */
  cpuUsPerSpan: number;
  /** Share of one core the sender (this process) used during the phase. */
  senderCpu: number;
}

interface RunResult {
  kind: ReceiverKind;
  grpc: PhaseResult;
  http: PhaseResult;
}

class ChildLink {
  private waiters: { resolve: (m: FromChild) => void; reject: (e: Error) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromChild) => this.waiters.shift()?.resolve(m));
    child.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`receiver exited with ${code}`));
    });
  }

  next(): Promise<FromChild> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async state(msg: ToChild): Promise<ChildState> {
    const reply = this.next();
    this.child.send(msg);
    const m = await reply;
    if (m.type !== 'state') throw new Error(`expected state, got ${m.type}`);
    return m;
  }
}

/** Empties the store, sends `bodies` over one transport, and measures. */
async function phase(
  link: ChildLink,
  bodies: Buffer[],
  inFlight: number,
  sendOne: SendOne,
  stores: boolean,
  perBatch = SPANS_PER_BATCH,
): Promise<PhaseResult> {
  const before = await link.state({ type: 'reset' });
  const senderCpu0 = process.cpuUsage();
  const ms = await sendAll(bodies, inFlight, sendOne);
  const senderCpu = process.cpuUsage(senderCpu0);
  const after = await link.state({ type: 'measure' });
  const expected = bodies.length * perBatch;
  if (stores && (after.spans !== expected || after.rejected !== 0)) {
    throw new Error(`stored ${after.spans} of ${expected} spans (${after.rejected} rejected)`);
  }
  const live = (m: MemorySnapshot) => m.heapUsed + m.external;
  return {
    spansPerSec: (expected * 1000) / ms,
    bytesPerSpan: (live(after.memory) - live(before.memory)) / expected,
    rssBytesPerSpan: (after.memory.rss - before.memory.rss) / expected,
    receiverCpu: (after.cpuMsBeforeGc - before.cpuMsAfterGc) / ms,
    cpuUsPerSpan: ((after.cpuMsBeforeGc - before.cpuMsAfterGc) * 1000) / expected,
    senderCpu: (senderCpu.user + senderCpu.system) / 1000 / ms,
  };
}

async function runOnce(
  kind: ReceiverKind,
  bundle: string,
  source: BatchSource,
  opts: Options,
  script: string,
): Promise<RunResult> {
  const execArgv = ['--expose-gc', '--import', 'tsx', '--max-old-space-size=8192'];
  if (kind === 'stagelight' && opts.cpuProfDir !== undefined) {
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  }
  const child = fork(script, ['--child', kind, bundle], { execArgv, stdio: 'inherit' });
  const link = new ChildLink(child);
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const ready = await link.next();
    if (ready.type !== 'ready') throw new Error(`expected ready, got ${ready.type}`);
    const g = grpcSender(ready.grpcPort);
    const h = httpSender(ready.httpPort, opts.inFlight);
    try {
      await sendAll(source.take(opts.warmup), opts.inFlight, g.send);
      await sendAll(source.take(opts.warmup), opts.inFlight, h.send);
      // Requests are built before the clock starts: the sender's copying is not timed. Each
      // phase starts from an empty store, so neither transport runs against a fuller heap.
      const stores = kind !== 'transport';
      const grpc = await phase(link, source.take(opts.batches), opts.inFlight, g.send, stores);
      const http = await phase(link, source.take(opts.batches), opts.inFlight, h.send, stores);
      return { kind, grpc, http };
    } finally {
      g.close();
      h.close();
    }
  } finally {
    if (child.exitCode === null) child.send({ type: 'exit' } satisfies ToChild);
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Stagelight as users run it: `dist/cli.js serve`, one process per transport, filled to 400k.

/** Stored spans at the checkpoints; the store's span budget is the last. */
const AT_50K = 50_000;
const AT_100K = 100_000;
const AT_400K = 400_000;
/** Spans sent while the store holds 400k, evicting as it goes: the CPU figure "at 400k". */
const STEADY_SPANS = 50_000;
/** The probe waits at least this long before a checkpoint: traces settle after 1 s. */
const SETTLE_WAIT_MS = 1_200;
const LIST_QUERIES = [
  'limit=20',
  'limit=20&error=true',
  'limit=20&minDurationMs=1200',
  'limit=20&name=vector_search',
  'limit=20&sort=start',
];

interface StagelightPhase {
  /** Spans/s over the stretch from 100k to 400k stored. */
  spansPerSec: number;
  /** Receiver CPU per span (background analysis included) up to 50k, and at 400k stored. */
  cpuUsAt50k: number;
  cpuUsAt400k: number;
  /** Growth of heap + external (after GC) per stored span, at 100k and 400k. */
  bytesAt100k: number;
  bytesAt400k: number;
  rssBytesAt400k: number;
  /** What the receiver counts (`/api/health` memory.total) per stored span at 400k. */
  countedAt400k: number;
  memoryAt400k: MemoryUsage;
  /** Share of one core used by the receiver and by the sender over the stretch. */
  receiverCpu: number;
  senderCpu: number;
  /** Median latency (ms) of `GET /api/traces?...` per query, at 400k stored. */
  listMs: Record<string, number>;
  /** How long the process took to go quiet after the stretch (the analysis catching up), ms. */
  drainMs: number;
}

interface StagelightResult {
  kind: 'stagelight';
  grpc: StagelightPhase;
  http: StagelightPhase;
}

async function startCliProcess(
  root: string,
  probe: string,
  opts: Options,
): Promise<{ child: ChildProcess; grpcPort: number; httpPort: number }> {
  const execArgv = ['--expose-gc', '--require', probe];
  if (opts.cpuProfDir !== undefined)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const args = [
    path.join(root, 'dist', 'cli.js'),
    'serve',
    '--grpc-port=0',
    '--http-port=0',
    '--strict-ports',
    '--quiet',
    `--max-spans=${AT_400K}`,
    // The span budget is the one that binds here: the memory figures are measured, not capped.
    '--max-memory-mib=4096',
  ];
  const child = spawn(process.execPath, [...execArgv, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const g = /OTLP\/gRPC\s+http:\/\/[^:]+:(\d+)/.exec(out);
    const h = /OTLP\/HTTP\s+http:\/\/[^:]+:(\d+)/.exec(out);
    if (g && h) return { child, grpcPort: Number(g[1]), httpPort: Number(h[1]) };
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`stagelight serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function probeOf(child: ChildProcess) {
  return (minWaitMs: number) =>
    new Promise<ProbeReply>((resolve) => {
      child.once('message', (m: ProbeReply) => resolve(m));
      child.send({ type: 'probe', minWaitMs });
    });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function listLatencies(httpPort: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of LIST_QUERIES) {
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await getJson(`http://127.0.0.1:${httpPort}/api/traces?${q}`);
      times.push(performance.now() - t0);
    }
    out[q] = median(times.slice(10));
  }
  return out;
}

async function stagelightPhase(
  root: string,
  probe: string,
  transport: 'grpc' | 'http',
  source: BatchSource,
  opts: Options,
): Promise<StagelightPhase> {
  const { child, grpcPort, httpPort } = await startCliProcess(root, probe, opts);
  const exited = new Promise((r) => child.once('exit', r));
  const ask = probeOf(child);
  const sender = transport === 'grpc' ? grpcSender(grpcPort) : httpSender(httpPort, opts.inFlight);
  const live = (p: ProbeReply) => p.memory.heapUsed + p.memory.external;
  let stored = 0;
  // Requests are built before the clock starts: the sender's copying is not timed.
  const send = async (batches: number) => {
    const bodies = source.take(batches);
    const ms = await sendAll(bodies, opts.inFlight, sender.send);
    stored += batches * SPANS_PER_BATCH;
    return ms;
  };
  const upTo = (n: number) => Math.floor((n - stored) / SPANS_PER_BATCH);
  try {
    const empty = await ask(0);
    await send(opts.warmup);
    const warm = await ask(SETTLE_WAIT_MS);
    const from = stored;
    await send(upTo(AT_50K));
    const p50 = await ask(SETTLE_WAIT_MS);
    const cpuUsAt50k = ((p50.cpuMs - warm.cpuMs) * 1000) / (stored - from);
    await send(upTo(AT_100K));
    const p100 = await ask(SETTLE_WAIT_MS);
    const bytesAt100k = (live(p100) - live(empty)) / stored;
    const stretchStart = stored;
    const bodies = source.take(upTo(AT_400K));
    const senderCpu0 = process.cpuUsage();
    const recvCpu0 = procCpuMs(child.pid!);
    const ms = await sendAll(bodies, opts.inFlight, sender.send);
    const recvCpu = procCpuMs(child.pid!) - recvCpu0;
    const senderCpu = process.cpuUsage(senderCpu0);
    stored += bodies.length * SPANS_PER_BATCH;
    const p400 = await ask(SETTLE_WAIT_MS);
    const health = await getJson<{ spans: number; memory: MemoryUsage }>(
      `http://127.0.0.1:${httpPort}/api/health`,
    );
    if (health.spans !== stored) throw new Error(`holds ${health.spans} spans, sent ${stored}`);
    const listMs = await listLatencies(httpPort);
    const before = await ask(0);
    const steadyBatches = Math.round(STEADY_SPANS / SPANS_PER_BATCH);
    await send(steadyBatches);
    const steady = await ask(SETTLE_WAIT_MS);
    const cpuUsAt400k = ((steady.cpuMs - before.cpuMs) * 1000) / (steadyBatches * SPANS_PER_BATCH);
    return {
      spansPerSec: ((stored - stretchStart) * 1000) / ms,
      cpuUsAt50k,
      cpuUsAt400k,
      bytesAt100k,
      bytesAt400k: (live(p400) - live(empty)) / health.spans,
      rssBytesAt400k: (p400.memory.rss - empty.memory.rss) / health.spans,
      countedAt400k: health.memory.total / health.spans,
      memoryAt400k: health.memory,
      receiverCpu: recvCpu / ms,
      senderCpu: (senderCpu.user + senderCpu.system) / 1000 / ms,
      listMs,
      drainMs: p400.quietAfterMs,
    };
  } finally {
    sender.close();
    child.kill('SIGTERM');
    child.disconnect();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Logs: records/s and bytes per stored record, Stagelight against the baseline logs receiver.

const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

interface LogsPhase {
  recordsPerSec: number;
  /** Growth of heap + external (after GC) per stored record. */
  bytesPerRecord: number;
}

interface LogsRun {
  kind: 'stagelight' | 'baseline-logs';
  grpc: LogsPhase;
  http: LogsPhase;
}

function logSenders(grpcPort: number, httpPort: number, inFlight: number) {
  return {
    grpc: grpcSender(grpcPort, LOGS_EXPORT_PATH),
    http: httpSender(httpPort, inFlight, '/v1/logs'),
  };
}

/** The requests of the warm-up, then the timed ones. */
function splitWarmup(bodies: Buffer[], warmup: number): [Buffer[], Buffer[]] {
  const w = Math.min(warmup, Math.floor(bodies.length / 4));
  return [bodies.slice(0, w), bodies.slice(w)];
}

async function stagelightLogsPhase(
  root: string,
  probe: string,
  transport: 'grpc' | 'http',
  batches: { bodies: Buffer[]; sampleTraceIds: string[] },
  opts: Options,
): Promise<LogsPhase> {
  const { child, grpcPort, httpPort } = await startCliProcess(root, probe, opts);
  const exited = new Promise((r) => child.once('exit', r));
  const ask = probeOf(child);
  const senders = logSenders(grpcPort, httpPort, opts.inFlight);
  const sender = senders[transport];
  const live = (p: ProbeReply) => p.memory.heapUsed + p.memory.external;
  try {
    const [warmup, timed] = splitWarmup(batches.bodies, opts.warmup);
    await sendAll(warmup, opts.inFlight, sender.send);
    const warm = await ask(SETTLE_WAIT_MS);
    const ms = await sendAll(timed, opts.inFlight, sender.send);
    const after = await ask(SETTLE_WAIT_MS);
    // Every request arrived whole: the last one's first trace has all its records.
    const last = batches.sampleTraceIds[batches.sampleTraceIds.length - 1]!;
    const got = await getJson<{ logs: unknown[] }>(
      `http://127.0.0.1:${httpPort}/api/traces/${last}/logs`,
    );
    if (got.logs.length !== LOG_RECORDS_PER_TRACE) {
      throw new Error(`trace ${last} holds ${got.logs.length} of ${LOG_RECORDS_PER_TRACE} records`);
    }
    const records = timed.length * LOG_RECORDS_PER_BATCH;
    return {
      recordsPerSec: (records * 1000) / ms,
      bytesPerRecord: (live(after) - live(warm)) / records,
    };
  } finally {
    senders.grpc.close();
    senders.http.close();
    child.kill('SIGTERM');
    child.disconnect();
    await exited;
  }
}

async function baselineLogsRun(
  bundle: string,
  bodies: Buffer[],
  opts: Options,
  script: string,
): Promise<LogsRun> {
  const execArgv = ['--expose-gc', '--import', 'tsx', '--max-old-space-size=8192'];
  const child = fork(script, ['--child', 'baseline-logs', bundle], { execArgv, stdio: 'inherit' });
  const link = new ChildLink(child);
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const ready = await link.next();
    if (ready.type !== 'ready') throw new Error(`expected ready, got ${ready.type}`);
    const senders = logSenders(ready.grpcPort, ready.httpPort, opts.inFlight);
    try {
      const [warmup, timed] = splitWarmup(bodies, opts.warmup);
      await sendAll(warmup, opts.inFlight, senders.grpc.send);
      await sendAll(warmup, opts.inFlight, senders.http.send);
      const one = async (send: SendOne): Promise<LogsPhase> => {
        const r = await phase(link, timed, opts.inFlight, send, true, LOG_RECORDS_PER_BATCH);
        return { recordsPerSec: r.spansPerSec, bytesPerRecord: r.bytesPerSpan };
      };
      const grpc = await one(senders.grpc.send);
      const http = await one(senders.http.send);
      return { kind: 'baseline-logs', grpc, http };
    } finally {
      senders.grpc.close();
      senders.http.close();
    }
  } finally {
    if (child.exitCode === null) child.send({ type: 'exit' } satisfies ToChild);
    await exited;
  }
}

interface LogsSummary {
  grpcRecordsPerSec: number;
  httpRecordsPerSec: number;
  bytesPerRecord: number;
  baselineGrpcRecordsPerSec: number;
  baselineHttpRecordsPerSec: number;
  baselineBytesPerRecord: number;
}

function summarizeLogs(ours: LogsRun[], baseline: LogsRun[]): LogsSummary {
  const m = (runs: LogsRun[], f: (r: LogsRun) => number) => Math.round(median(runs.map(f)));
  return {
    grpcRecordsPerSec: m(ours, (r) => r.grpc.recordsPerSec),
    httpRecordsPerSec: m(ours, (r) => r.http.recordsPerSec),
    bytesPerRecord: m(ours, (r) => Math.max(r.grpc.bytesPerRecord, r.http.bytesPerRecord)),
    baselineGrpcRecordsPerSec: m(baseline, (r) => r.grpc.recordsPerSec),
    baselineHttpRecordsPerSec: m(baseline, (r) => r.http.recordsPerSec),
    baselineBytesPerRecord: m(baseline, (r) =>
      Math.max(r.grpc.bytesPerRecord, r.http.bytesPerRecord),
    ),
  };
}

function logsTable(s: LogsSummary): string {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return [
    '| Receiver | gRPC records/s | HTTP records/s | bytes per stored record |',
    '| --- | ---: | ---: | ---: |',
    `| Stagelight (\`stagelight serve\`) | ${fmt(s.grpcRecordsPerSec)} | ${fmt(s.httpRecordsPerSec)} | ${fmt(s.bytesPerRecord)} |`,
    `| Baseline (protobufjs, objects kept) | ${fmt(s.baselineGrpcRecordsPerSec)} | ${fmt(s.baselineHttpRecordsPerSec)} | ${fmt(s.baselineBytesPerRecord)} |`,
    `| Stagelight / baseline | ${ratio(s.grpcRecordsPerSec, s.baselineGrpcRecordsPerSec)} | ${ratio(s.httpRecordsPerSec, s.baselineHttpRecordsPerSec)} | ${ratio(s.bytesPerRecord, s.baselineBytesPerRecord)} |`,
  ].join('\n');
}

function logsDocsSection(
  s: LogsSummary,
  opts: Options,
  bytesPerRequest: number,
  machineLine: string,
): string {
  const { start, end } = docsMarkers('ingest-logs');
  return `${start}
## Ingest: logs

OTLP log records as the OpenTelemetry JS logs SDK encodes them (\`bench/log-batches.ts\`):
${LOG_RECORDS_PER_BATCH} records per request (${fmt(bytesPerRequest)} bytes), each with a trace
and span id, a body of a few words, three attributes; ${opts.logBatches} requests per transport
per run (${Math.min(opts.warmup, Math.floor(opts.logBatches / 4))} of them a warm-up),
${opts.inFlight} in flight, ${opts.runs === 1 ? 'one run' : `medians of ${opts.runs} runs`}.
Stagelight is \`dist/cli.js serve\` (a fresh process per transport); the baseline is
\`startBaselineLogsReceiver\` in \`bench/baseline-receiver.ts\` (protobufjs decode, the
decoded objects kept as they are, a \`Map\` by trace id). Bytes per stored record: growth of
heap + external after forced GCs over the timed requests.

${logsTable(s)}

${machineLine}

\`\`\`
${COMMAND}${opts.logsOnly ? ' -- --logs-only' : ''}${opts.runs !== 3 ? ` --runs=${opts.runs}` : ''}
\`\`\`
${end}`;
}

async function logsBench(
  root: string,
  bundles: Bundles,
  opts: Options,
  script: string,
  machineLine: string,
): Promise<LogsSummary> {
  const batches = await generateLogBatches(opts.logBatches);
  const bytesPerRequest =
    batches.bodies.reduce((a, b) => a + b.length, 0) / Math.max(1, batches.bodies.length);
  console.log(
    `\nLogs: ${LOG_RECORDS_PER_BATCH} records/request (${fmt(bytesPerRequest)} bytes), ` +
      `${opts.logBatches} requests per transport\n` +
      'receiver  |  gRPC records/s  |  HTTP records/s  |  bytes/record (gRPC, HTTP)',
  );
  const ours: LogsRun[] = [];
  const theirs: LogsRun[] = [];
  const line = (r: LogsRun) =>
    console.log(
      [
        r.kind,
        fmt(r.grpc.recordsPerSec),
        fmt(r.http.recordsPerSec),
        `${fmt(r.grpc.bytesPerRecord)}, ${fmt(r.http.bytesPerRecord)}`,
      ].join('  |  '),
    );
  for (let run = 1; run <= opts.runs; run++) {
    const r: LogsRun = {
      kind: 'stagelight',
      grpc: await stagelightLogsPhase(root, bundles.probe, 'grpc', batches, opts),
      http: await stagelightLogsPhase(root, bundles.probe, 'http', batches, opts),
    };
    ours.push(r);
    line(r);
    const b = await baselineLogsRun(bundles.baseline, batches.bodies, opts, script);
    theirs.push(b);
    line(b);
  }
  const summary = summarizeLogs(ours, theirs);
  console.log(`\nLogs, medians of ${formatCount(opts.runs, 'run')}:\n${logsTable(summary)}`);
  if (opts.docs) {
    const file = writeBenchSection(
      root,
      'ingest-logs',
      logsDocsSection(summary, opts, bytesPerRequest, machineLine),
    );
    console.log(`wrote ${path.relative(root, file)}`);
  }
  return summary;
}

/** The last line of output. Figures are medians over the runs. */
interface Summary {
  /** Stagelight (`stagelight serve`), spans/s over the stretch from 100k to 400k stored. */
  grpcSpansPerSec: number;
  httpSpansPerSec: number;
  /** Everything held (heap + external after GC, analysis included) per span: the larger of the figures at 100k and 400k. */
  bytesPerSpan: number;
  bytesPerSpanAt100k: number;
  bytesPerSpanAt400k: number;
  /** What Stagelight counts against its budget per span at 400k (`/api/health` memory.total). */
  countedBytesPerSpan: number;
  rssBytesPerSpan: number;
  /** Receiver CPU µs per span, background analysis included, mean of the two transports. */
  cpuUsPerSpanAt50k: number;
  cpuUsPerSpanAt400k: number;
  grpcCpuUsPerSpan: number;
  httpCpuUsPerSpan: number;
  baselineGrpcSpansPerSec: number;
  baselineHttpSpansPerSec: number;
  baselineBytesPerSpan: number;
  baselineRssBytesPerSpan: number;
  baselineGrpcCpuUsPerSpan: number;
  baselineHttpCpuUsPerSpan: number;
  grpcSpeedup: number;
  httpSpeedup: number;
  /** Stagelight's bytes per span over the baseline's. */
  memoryRatio: number;
  /** What the transports alone reach (no decoding, nothing kept): the ceiling. */
  transportGrpcSpansPerSec: number;
  transportHttpSpansPerSec: number;
  transportOnlyGrpcSpansPerSec: number;
  transportOnlyHttpSpansPerSec: number;
  /** Stagelight's gRPC spans/s over the transport-only ceiling's. */
  grpcShareOfCeiling: number;
  /** Median ms of `GET /api/traces?...` at 400k stored (50k traces), HTTP round trip included. */
  listLatencyMs: Record<string, number>;
  /** After the stretch, how long until the process went quiet (analysis catching up), ms. */
  drainMs: number;
  spansMeasured: number;
  runs: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

function summarize(
  ours: readonly StagelightResult[],
  others: readonly RunResult[],
  opts: Options,
): Summary {
  const sl = (f: (p: StagelightPhase) => number) => ({
    grpc: median(ours.map((r) => f(r.grpc))),
    http: median(ours.map((r) => f(r.http))),
  });
  const med = (kind: ReceiverKind) => {
    const figs = others.filter((r) => r.kind === kind).map(runFigures);
    return {
      grpc: median(figs.map((f) => f.grpc)),
      http: median(figs.map((f) => f.http)),
      bytes: median(figs.map((f) => f.bytes)),
      rss: median(figs.map((f) => f.rss)),
      grpcCpu: median(figs.map((f) => f.grpcCpu)),
      httpCpu: median(figs.map((f) => f.httpCpu)),
    };
  };
  const base = med('baseline');
  const ceiling = med('transport');
  const rate = sl((p) => p.spansPerSec);
  const at50 = sl((p) => p.cpuUsAt50k);
  const at400 = sl((p) => p.cpuUsAt400k);
  const mean = (x: { grpc: number; http: number }) => (x.grpc + x.http) / 2;
  const b100 = mean(sl((p) => p.bytesAt100k));
  const b400 = mean(sl((p) => p.bytesAt400k));
  const bytes = Math.max(b100, b400);
  const listLatencyMs: Record<string, number> = {};
  for (const q of LIST_QUERIES) listLatencyMs[q] = r2(mean(sl((p) => p.listMs[q]!)));
  return {
    grpcSpansPerSec: Math.round(rate.grpc),
    httpSpansPerSec: Math.round(rate.http),
    bytesPerSpan: Math.round(bytes),
    bytesPerSpanAt100k: Math.round(b100),
    bytesPerSpanAt400k: Math.round(b400),
    countedBytesPerSpan: Math.round(mean(sl((p) => p.countedAt400k))),
    rssBytesPerSpan: Math.round(mean(sl((p) => p.rssBytesAt400k))),
    cpuUsPerSpanAt50k: r2(mean(at50)),
    cpuUsPerSpanAt400k: r2(mean(at400)),
    grpcCpuUsPerSpan: r2(at400.grpc),
    httpCpuUsPerSpan: r2(at400.http),
    baselineGrpcSpansPerSec: Math.round(base.grpc),
    baselineHttpSpansPerSec: Math.round(base.http),
    baselineBytesPerSpan: Math.round(base.bytes),
    baselineRssBytesPerSpan: Math.round(base.rss),
    baselineGrpcCpuUsPerSpan: r2(base.grpcCpu),
    baselineHttpCpuUsPerSpan: r2(base.httpCpu),
    grpcSpeedup: r2(rate.grpc / base.grpc),
    httpSpeedup: r2(rate.http / base.http),
    memoryRatio: r2(bytes / base.bytes),
    transportGrpcSpansPerSec: Math.round(ceiling.grpc),
    transportHttpSpansPerSec: Math.round(ceiling.http),
    transportOnlyGrpcSpansPerSec: Math.round(ceiling.grpc),
    transportOnlyHttpSpansPerSec: Math.round(ceiling.http),
    grpcShareOfCeiling: r2(rate.grpc / ceiling.grpc),
    listLatencyMs,
    drainMs: Math.round(mean(sl((p) => p.drainMs))),
    spansMeasured: AT_400K,
    runs: opts.runs,
  };
}

/** Per-run figures of the baseline or the ceiling; memory is the mean of the two phases. */
function runFigures(r: RunResult) {
  return {
    grpc: r.grpc.spansPerSec,
    http: r.http.spansPerSec,
    bytes: (r.grpc.bytesPerSpan + r.http.bytesPerSpan) / 2,
    rss: (r.grpc.rssBytesPerSpan + r.http.rssBytesPerSpan) / 2,
    grpcCpu: r.grpc.cpuUsPerSpan,
    httpCpu: r.http.cpuUsPerSpan,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number) => `${Math.round(x * 100)}%`;
const us = (x: number) => x.toFixed(2);

const HEADER = [
  '',
  'gRPC spans/s',
  'HTTP spans/s',
  'CPU µs/span gRPC / HTTP',
  'bytes/span held (heap+ext)',
  'bytes/span (RSS)',
];

function rows(s: Summary): string[][] {
  return [
    [
      'Stagelight (`stagelight serve`)',
      fmt(s.grpcSpansPerSec),
      fmt(s.httpSpansPerSec),
      `${us(s.grpcCpuUsPerSpan)} / ${us(s.httpCpuUsPerSpan)}`,
      `${fmt(s.bytesPerSpanAt100k)} at 100k, ${fmt(s.bytesPerSpanAt400k)} at 400k`,
      fmt(s.rssBytesPerSpan),
    ],
    [
      'baseline',
      fmt(s.baselineGrpcSpansPerSec),
      fmt(s.baselineHttpSpansPerSec),
      `${us(s.baselineGrpcCpuUsPerSpan)} / ${us(s.baselineHttpCpuUsPerSpan)}`,
      fmt(s.baselineBytesPerSpan),
      fmt(s.baselineRssBytesPerSpan),
    ],
    [
      'transport only (ceiling)',
      fmt(s.transportGrpcSpansPerSec),
      fmt(s.transportHttpSpansPerSec),
      '-',
      '-',
      '-',
    ],
    [
      'Stagelight / baseline',
      `${s.grpcSpeedup}x`,
      `${s.httpSpeedup}x`,
      `${(s.grpcCpuUsPerSpan / s.baselineGrpcCpuUsPerSpan).toFixed(2)}x / ${(s.httpCpuUsPerSpan / s.baselineHttpCpuUsPerSpan).toFixed(2)}x`,
      `${s.memoryRatio}x`,
      `${(s.rssBytesPerSpan / s.baselineRssBytesPerSpan).toFixed(2)}x`,
    ],
  ];
}

function table(s: Summary): string {
  const r = [HEADER, ...rows(s)];
  const widths = r[0]!.map((_, c) => Math.max(...r.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)));
  return r.map((row) => line(row).join('  ')).join('\n');
}

function markdownTable(header: string[], body: string[][]): string {
  const align = header.map((_, c) => (c === 0 ? '---' : '---:'));
  return [header, align, ...body].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

const RUN_HEADER = [
  'receiver',
  'gRPC spans/s',
  'HTTP spans/s',
  'CPU µs/span at 50k / 400k (gRPC; HTTP)',
  'bytes/span (heap+ext)',
  'CPU gRPC (recv / send)',
  'CPU HTTP (recv / send)',
];

function stagelightLine(r: StagelightResult): string[] {
  const cpu = (p: StagelightPhase) => `${pct(p.receiverCpu)} / ${pct(p.senderCpu)}`;
  return [
    'stagelight',
    fmt(r.grpc.spansPerSec),
    fmt(r.http.spansPerSec),
    `${us(r.grpc.cpuUsAt50k)} / ${us(r.grpc.cpuUsAt400k)}; ${us(r.http.cpuUsAt50k)} / ${us(r.http.cpuUsAt400k)}`,
    `${fmt((r.grpc.bytesAt100k + r.http.bytesAt100k) / 2)} / ${fmt((r.grpc.bytesAt400k + r.http.bytesAt400k) / 2)}`,
    cpu(r.grpc),
    cpu(r.http),
  ];
}

function runLine(r: RunResult): string[] {
  const f = runFigures(r);
  const cpu = (p: PhaseResult) => `${pct(p.receiverCpu)} / ${pct(p.senderCpu)}`;
  const stores = r.kind !== 'transport';
  return [
    r.kind,
    fmt(f.grpc),
    fmt(f.http),
    stores ? `${us(f.grpcCpu)}; ${us(f.httpCpu)}` : '-',
    stores ? fmt(f.bytes) : '-',
    cpu(r.grpc),
    cpu(r.http),
  ];
}

function docsSection(
  s: Summary,
  lines: string[][],
  opts: Options,
  bytesPerBatch: number,
  machineLine: string,
  memory: MemoryUsage,
): string {
  const goal = (ok: boolean) => (ok ? 'met' : '**not met**');
  const cpuRatio = s.cpuUsPerSpanAt400k / s.cpuUsPerSpanAt50k;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const list = Object.entries(s.listLatencyMs)
    .map(([q, ms]) => `\`?${q}\` ${ms} ms`)
    .join(', ');
  return `${DOCS_START}
## Ingest (\`${COMMAND}\`)

_Written by \`bench/ingest.ts\` on ${new Date().toISOString().slice(0, 10)}; rerun the command to
refresh this section._

**What is measured.** Spans per second ingested over OTLP/gRPC and over OTLP/HTTP (protobuf),
receiver CPU per span and memory held per span, for Stagelight as users run it (the built
\`dist/cli.js serve\`, with the background analysis and the statistics on) and for a baseline
receiver built the straightforward way (\`bench/baseline-receiver.ts\`: \`@grpc/grpc-js\` with a
service whose deserializer is the protobufjs \`decode\` of the OTLP schema loaded at run time, a
\`node:http\` server doing the same decode, the decoded request objects kept as they are plus a
\`Map\` from trace id to span objects; its schema is the OTLP trace schema as a protobufjs JSON
descriptor, which is what \`protobuf.loadSync(...)\` of the \`.proto\` files yields).

**How.**
- Requests are real OTLP: ${SPANS_PER_BATCH} spans per \`ExportTraceServiceRequest\`
  (~${fmt(bytesPerBatch / 1024)} KiB), made by the OpenTelemetry JS SDK and encoded by its
  \`ProtobufTraceSerializer\`: a RAG inference pipeline, ${SPANS_PER_TRACE} spans per trace,
  10 attributes each, 2-3 events, a resource of 11 attributes, two scopes. Every request carries
  fresh trace ids, so no span is a duplicate.
- Stagelight: one \`stagelight serve --max-spans=${AT_400K} --max-memory-mib=4096\` process
  per transport and run, with a probe preloaded (\`bench/lib/process-probe.ts\`) that, asked over
  IPC, waits until the process is quiet (at least ${SETTLE_WAIT_MS} ms, so that traces settle and
  the analysis catches up), reads its CPU time, and measures memory after forced GCs. The store
  is filled in one go: ${opts.warmup} warm-up requests, then checkpoints at 50k, 100k and 400k
  stored spans, then ${fmt(STEADY_SPANS)} more spans while it holds 400k (its span budget, so
  every batch evicts).
  - **CPU µs/span at 50k** is the process's CPU time (GC threads and the background analysis of
    those spans included) over the spans from the warm-up to 50k; **at 400k**, over the
    ${fmt(STEADY_SPANS)} spans sent while the store is full.
  - **spans/s** is over the stretch from 100k to 400k stored, from the first send to the last
    response (the analysis then still catches up: a median of ${fmt(s.drainMs)} ms more, the
    probe's quiet wait included; its CPU is in the CPU figures, not in spans/s).
  - **bytes/span held** is the growth of \`heapUsed + external\` after forced GCs since the idle
    process, everything included (spans, indexes, the analysis' facts and tickets, statistics,
    compiled code), over the spans stored; at 100k and at 400k.
- Baseline and transport only: esbuild bundles in a child process; per transport the store is
  emptied, memory taken after forced GCs, ${opts.batches} requests
  (${fmt(opts.batches * SPANS_PER_BATCH)} spans) sent and timed, memory taken again.
  **Transport only** answers without decoding or keeping anything: the most any receiver on
  these transports can reach with this sender on this machine.
- Senders: a grpc-js client with identity serializers (pre-encoded bytes) and a keep-alive
  \`node:http\` client, each with ${opts.inFlight} requests in flight.
- ${opts.runs} runs, alternated (Stagelight, baseline, transport only, ...); medians.

**Machine.** ${machineLine}.

**Results** (medians of ${opts.runs} runs):

${markdownTable(HEADER, rows(s))}

Stagelight's own count at 400k stored (\`/api/health\` \`memory\`): ${fmt(s.countedBytesPerSpan)}
bytes/span (spans ${mib(memory.spans)}, indexes ${mib(memory.indexes)}, analysis
${mib(memory.analysis)}, statistics ${mib(memory.stats)}). Trace list at 400k stored (50k
traces), median over HTTP: ${list}.

Goals:
- memory held at most 1 KiB per span, everything included: ${goal(s.bytesPerSpan <= 1024)}
  (${fmt(s.bytesPerSpanAt100k)} at 100k, ${fmt(s.bytesPerSpanAt400k)} at 400k);
- CPU µs/span at 400k stored within 1.25x of the figure at 50k: ${goal(cpuRatio <= 1.25)}
  (${us(s.cpuUsPerSpanAt400k)} vs ${us(s.cpuUsPerSpanAt50k)}, ${cpuRatio.toFixed(2)}x);
- gRPC at least 70% of the transport-only ceiling: ${goal(s.grpcShareOfCeiling >= 0.7)}
  (${pct(s.grpcShareOfCeiling)});
- HTTP at least 3x the baseline: ${goal(s.httpSpeedup >= 3)} (${s.httpSpeedup}x).

Each run (bytes/span: at 100k / at 400k for Stagelight):

${markdownTable(RUN_HEADER, lines)}

Reproduce with:

\`\`\`sh
${COMMAND}
\`\`\`

\`npm run bench:ingest -- --runs=5\` runs longer; \`--no-docs\` leaves this file alone;
\`--cpu-prof=DIR\` writes a CPU profile of each Stagelight process.
${DOCS_END}`;
}

async function main(): Promise<void> {
  const script = path.resolve(process.argv[1]!);
  const root = path.resolve(path.dirname(script), '..');
  const opts = parseOptions(process.argv.slice(2));
  const t0 = performance.now();
  const bundles = await buildBundles(root);
  const machineLine = machine();
  const summary = opts.logsOnly
    ? undefined
    : await spansBench(root, bundles, opts, script, machineLine);
  const logs = await logsBench(root, bundles, opts, script, machineLine);
  console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  console.log(JSON.stringify({ ...summary, logs }));
}

async function spansBench(
  root: string,
  bundles: Bundles,
  opts: Options,
  script: string,
  machineLine: string,
): Promise<Summary> {
  const templates = generateTemplates();
  const { bytesPerBatch } = checkTemplates(templates, bundles);
  const source = new BatchSource(templates);
  console.log(
    `Ingest: ${SPANS_PER_BATCH} spans/request (${fmt(bytesPerBatch)} bytes), ` +
      `${opts.inFlight} in flight, ${opts.runs} runs per receiver\n${machineLine}\n`,
  );
  const ours: StagelightResult[] = [];
  const others: RunResult[] = [];
  const lines: string[][] = [];
  const print = (row: string[]) => {
    lines.push(row);
    console.log(row.join('  |  '));
  };
  console.log(RUN_HEADER.join('  |  '));
  for (let run = 1; run <= opts.runs; run++) {
    const grpcPhase = await stagelightPhase(root, bundles.probe, 'grpc', source, opts);
    const httpPhase = await stagelightPhase(root, bundles.probe, 'http', source, opts);
    const r: StagelightResult = { kind: 'stagelight', grpc: grpcPhase, http: httpPhase };
    ours.push(r);
    print(stagelightLine(r));
    for (const kind of ['baseline', 'transport'] as const) {
      const o = await runOnce(kind, bundles.baseline, source, opts, script);
      others.push(o);
      print(runLine(o));
    }
  }
  const summary = summarize(ours, others, opts);
  console.log(`\nMedians of ${opts.runs} runs:\n${table(summary)}`);
  if (opts.docs) {
    const last = ours[ours.length - 1]!.grpc.memoryAt400k;
    const file = writeBenchSection(
      root,
      'ingest',
      docsSection(summary, lines, opts, bytesPerBatch, machineLine, last),
    );
    console.log(`wrote ${path.relative(root, file)}`);
  }
  return summary;
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  childMain(process.argv[childAt + 1] as ReceiverKind, process.argv[childAt + 2]!).catch(
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
