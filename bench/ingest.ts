/**
 * `npm run bench:ingest`: spans/s ingested over OTLP/gRPC and OTLP/HTTP (protobuf), and memory
 * per stored span, for Stagelight's receiver and for a straightforward baseline
 * (`bench/baseline-receiver.ts`), side by side in one run.
 *
 * Design:
 * - Each receiver runs in its own child process, one fresh process per run. Memory is then
 *   measured on a heap that holds nothing but the receiver, and the sender (this process) does
 *   not share the receiver's event loop or its garbage collector. On a 2-core machine the
 *   sender and the receiver each get a core.
 * - The batches are real OTLP: spans made by the OpenTelemetry JS SDK and encoded by
 *   `ProtobufTraceSerializer`, 512 per request. A few template batches are encoded once; every
 *   request sent is a copy with fresh trace ids patched into the bytes, so no span is ever a
 *   duplicate (Stagelight drops re-sent spans, which would flatter it).
 * - Both receivers are esbuild bundles built like `dist/` (see `buildBundles`).
 * - Per run: warm-up over both transports; then per transport, starting from an empty store:
 *   memory after forced GCs, the timed phase (spans/s from the first send to the last response,
 *   a few requests in flight), memory after forced GCs again. Bytes per span = growth / spans
 *   stored, averaged over the two phases.
 * - A third, transport-only receiver (same servers, no decoding, nothing kept) shows the ceiling
 *   of the transports with this sender on this machine.
 * - Runs alternate (Stagelight, baseline, transport only, Stagelight, ...); figures are medians.
 *
 * The last line of output is one JSON object (see `Summary`); the results are also written into
 * docs/benchmarks.md between the `bench:ingest` markers.
 *
 * Options: --runs=N (3), --batches=N per transport per run (200), --warmup=N batches per
 * transport (20), --in-flight=N (4), --no-docs, --cpu-prof=DIR (profiles the Stagelight child).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as esbuild from 'esbuild';
import type { RunningServer } from '../src/core/server.js';
import type { DecodedRequest, RunningBaselineReceiver } from './baseline-receiver.js';
import {
  BatchSource,
  generateTemplates,
  SPANS_PER_BATCH,
  SPANS_PER_TRACE,
  type Template,
} from './batches.js';
import { docsMarkers, writeBenchSection } from './lib/docs.js';

/** Distinct encoded batches; requests are copies of these with fresh trace ids. */
const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const { start: DOCS_START, end: DOCS_END } = docsMarkers('ingest');
const COMMAND = 'npm run bench:ingest';

/** `transport` answers without decoding or storing: the ceiling of the transports. */
type ReceiverKind = 'stagelight' | 'baseline' | 'transport';
const KINDS: readonly ReceiverKind[] = ['stagelight', 'baseline', 'transport'];

interface Options {
  runs: number;
  batches: number;
  warmup: number;
  inFlight: number;
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
    docs: !argv.includes('--no-docs'),
    cpuProfDir: prof === undefined ? undefined : path.resolve(prof.slice('--cpu-prof='.length)),
  };
}

// ---------------------------------------------------------------------------------------------
// The code under test, bundled.

/**
 * Both receivers run as esbuild bundles built like `dist/` (esbuild.config.mjs: one CommonJS
 * file, dependencies included), i.e. the code as shipped. Running `src/` through tsx instead
 * measures tsx's per-module CommonJS transform, where every imported binding (such as
 * `WireType.LEN` in the decoder's inner loop) is read through an export getter: that alone cost
 * Stagelight over a tenth of its ingest time when profiled.
 */
interface StagelightBundle {
  startServer: typeof import('../src/core/server.js').startServer;
  decodeTraceRequest: typeof import('../src/core/otlp/trace-request-decoder.js').decodeTraceRequest;
}
type BaselineBundle = typeof import('./baseline-receiver.js');

interface Bundles {
  stagelight: string;
  baseline: string;
}

const bundleOf = (kind: ReceiverKind): keyof Bundles =>
  kind === 'stagelight' ? 'stagelight' : 'baseline';

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
  };
  await Promise.all([
    esbuild.build({
      ...common,
      stdin: {
        contents:
          "export { startServer } from './src/core/server.ts';\n" +
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
  ]);
  return bundles;
}

function load<T>(bundle: string): T {
  return createRequire(bundle)(bundle) as T;
}

// ---------------------------------------------------------------------------------------------
// Child side: one receiver, driven over IPC.

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
  let ours: RunningServer | undefined;
  let baseline: RunningBaselineReceiver | undefined;
  if (kind === 'stagelight') {
    ours = await load<StagelightBundle>(bundle).startServer({
      grpcPort: 0,
      httpPort: 0,
      strictPorts: true,
      // Room for everything sent, so that nothing is evicted and every span is measured.
      maxSpans: 5_000_000,
      // No trace settles during the run: the bench measures ingest, not the background analysis.
      settleMs: 3_600_000,
      log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
    });
    send({ type: 'ready', grpcPort: ours.grpc.port, httpPort: ours.http.port });
  } else {
    const mod = load<BaselineBundle>(bundle);
    baseline = await (kind === 'baseline'
      ? mod.startBaselineReceiver()
      : mod.startTransportOnlyReceiver());
    send({ type: 'ready', grpcPort: baseline.grpcPort, httpPort: baseline.httpPort });
  }
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
      spans: ours?.engine.store.spanCount ?? baseline!.spanCount,
      traces: ours?.engine.store.traceCount ?? baseline!.traceCount,
      rejected: ours?.engine.counters.rejectedSpans ?? 0,
    };
  };
  process.on('message', (m: ToChild) => {
    void (async () => {
      if (m.type === 'reset') {
        ours?.engine.clear();
        baseline?.clear();
        send({ type: 'state', ...(await state()) });
      } else if (m.type === 'measure') {
        send({ type: 'state', ...(await state()) });
      } else {
        await (ours ?? baseline)!.close();
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
// Senders.

type SendOne = (body: Buffer) => Promise<void>;

/** Sends every body with `inFlight` requests outstanding; resolves with the elapsed ms. */
async function sendAll(bodies: readonly Buffer[], inFlight: number, sendOne: SendOne) {
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    while (next < bodies.length) await sendOne(bodies[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, bodies.length) }, lane));
  return performance.now() - start;
}

const identity = (b: Buffer): Buffer => b;

function grpcSender(port: number): { send: SendOne; close(): void } {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  const send: SendOne = (body) =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(EXPORT_PATH, identity, identity, body, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  return { send, close: () => client.close() };
}

function httpSender(port: number, inFlight: number): { send: SendOne; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const send: SendOne = (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/traces',
          agent,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
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
): Promise<PhaseResult> {
  const before = await link.state({ type: 'reset' });
  const senderCpu0 = process.cpuUsage();
  const ms = await sendAll(bodies, inFlight, sendOne);
  const senderCpu = process.cpuUsage(senderCpu0);
  const after = await link.state({ type: 'measure' });
  const expected = bodies.length * SPANS_PER_BATCH;
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

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The last line of output. Throughput and memory are medians over the runs. */
interface Summary {
  grpcSpansPerSec: number;
  httpSpansPerSec: number;
  bytesPerSpan: number;
  baselineGrpcSpansPerSec: number;
  baselineHttpSpansPerSec: number;
  baselineBytesPerSpan: number;
  grpcSpeedup: number;
  httpSpeedup: number;
  /** Stagelight's bytes per span over the baseline's (goal: at most 1/3). */
  memoryRatio: number;
  rssBytesPerSpan: number;
  baselineRssBytesPerSpan: number;
  /** Receiver CPU µs per span (GC threads included), per transport. */
  grpcCpuUsPerSpan: number;
  httpCpuUsPerSpan: number;
  baselineGrpcCpuUsPerSpan: number;
  baselineHttpCpuUsPerSpan: number;
  /** What the transports alone reach (no decoding, nothing kept): the ceiling. */
  transportOnlyGrpcSpansPerSec: number;
  transportOnlyHttpSpansPerSec: number;
  /** Spans stored when memory is measured (one phase). */
  spansMeasured: number;
  runs: number;
}

/** Per-run figures of one receiver; memory is the mean of the run's two phases. */
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

function summarize(results: readonly RunResult[], opts: Options): Summary {
  const med = (kind: ReceiverKind) => {
    const figs = results.filter((r) => r.kind === kind).map(runFigures);
    return {
      grpc: median(figs.map((f) => f.grpc)),
      http: median(figs.map((f) => f.http)),
      bytes: median(figs.map((f) => f.bytes)),
      rss: median(figs.map((f) => f.rss)),
      grpcCpu: median(figs.map((f) => f.grpcCpu)),
      httpCpu: median(figs.map((f) => f.httpCpu)),
    };
  };
  const ours = med('stagelight');
  const base = med('baseline');
  const ceiling = med('transport');
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    grpcSpansPerSec: Math.round(ours.grpc),
    httpSpansPerSec: Math.round(ours.http),
    bytesPerSpan: Math.round(ours.bytes),
    baselineGrpcSpansPerSec: Math.round(base.grpc),
    baselineHttpSpansPerSec: Math.round(base.http),
    baselineBytesPerSpan: Math.round(base.bytes),
    grpcSpeedup: r2(ours.grpc / base.grpc),
    httpSpeedup: r2(ours.http / base.http),
    memoryRatio: r2(ours.bytes / base.bytes),
    rssBytesPerSpan: Math.round(ours.rss),
    baselineRssBytesPerSpan: Math.round(base.rss),
    grpcCpuUsPerSpan: r2(ours.grpcCpu),
    httpCpuUsPerSpan: r2(ours.httpCpu),
    baselineGrpcCpuUsPerSpan: r2(base.grpcCpu),
    baselineHttpCpuUsPerSpan: r2(base.httpCpu),
    transportOnlyGrpcSpansPerSec: Math.round(ceiling.grpc),
    transportOnlyHttpSpansPerSec: Math.round(ceiling.http),
    spansMeasured: opts.batches * SPANS_PER_BATCH,
    runs: opts.runs,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number) => `${Math.round(x * 100)}%`;

function rows(s: Summary): string[][] {
  const us = (x: number) => x.toFixed(2);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return [
    [
      '',
      'gRPC spans/s',
      'HTTP spans/s',
      'bytes/span (heap+external)',
      'bytes/span (RSS)',
      'CPU µs/span gRPC',
      'CPU µs/span HTTP',
    ],
    [
      'Stagelight',
      fmt(s.grpcSpansPerSec),
      fmt(s.httpSpansPerSec),
      fmt(s.bytesPerSpan),
      fmt(s.rssBytesPerSpan),
      us(s.grpcCpuUsPerSpan),
      us(s.httpCpuUsPerSpan),
    ],
    [
      'baseline',
      fmt(s.baselineGrpcSpansPerSec),
      fmt(s.baselineHttpSpansPerSec),
      fmt(s.baselineBytesPerSpan),
      fmt(s.baselineRssBytesPerSpan),
      us(s.baselineGrpcCpuUsPerSpan),
      us(s.baselineHttpCpuUsPerSpan),
    ],
    [
      'transport only (ceiling)',
      fmt(s.transportOnlyGrpcSpansPerSec),
      fmt(s.transportOnlyHttpSpansPerSec),
      '-',
      '-',
      '-',
      '-',
    ],
    [
      'Stagelight / baseline',
      `${s.grpcSpeedup}x`,
      `${s.httpSpeedup}x`,
      `${s.memoryRatio}x`,
      ratio(s.rssBytesPerSpan, s.baselineRssBytesPerSpan),
      ratio(s.grpcCpuUsPerSpan, s.baselineGrpcCpuUsPerSpan),
      ratio(s.httpCpuUsPerSpan, s.baselineHttpCpuUsPerSpan),
    ],
  ];
}

function table(s: Summary): string {
  const r = rows(s);
  const widths = r[0]!.map((_, c) => Math.max(...r.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)));
  return r.map((row) => line(row).join('  ')).join('\n');
}

function markdownTable(header: string[], body: string[][]): string {
  const align = header.map((_, c) => (c === 0 ? '---' : '---:'));
  return [header, align, ...body].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

function runLine(r: RunResult): string[] {
  const f = runFigures(r);
  const cpu = (p: PhaseResult) => `${pct(p.receiverCpu)} / ${pct(p.senderCpu)}`;
  const stores = r.kind !== 'transport';
  return [
    r.kind,
    fmt(f.grpc),
    fmt(f.http),
    stores ? fmt(f.bytes) : '-',
    stores ? fmt(f.rss) : '-',
    cpu(r.grpc),
    cpu(r.http),
  ];
}

const RUN_HEADER = [
  'receiver',
  'gRPC spans/s',
  'HTTP spans/s',
  'bytes/span (heap+ext)',
  'bytes/span (RSS)',
  'CPU gRPC (recv / send)',
  'CPU HTTP (recv / send)',
];

function machine(): string {
  const cpus = os.cpus();
  return (
    `${os.availableParallelism()} CPUs (\`nproc\`), ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, ` +
    `Node ${process.version}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`
  );
}

function docsSection(
  s: Summary,
  results: readonly RunResult[],
  opts: Options,
  bytesPerBatch: number,
  machineLine: string,
): string {
  const [header, ...body] = rows(s);
  const goal = (ok: boolean) => (ok ? 'met' : '**not met**');
  return `${DOCS_START}
## Ingest (\`${COMMAND}\`)

_Written by \`bench/ingest.ts\` on ${new Date().toISOString().slice(0, 10)}; rerun the command to
refresh this section._

**What is measured.** Spans per second ingested over OTLP/gRPC and over OTLP/HTTP (protobuf),
and memory per stored span, for Stagelight's receiver (\`startServer\` from
\`src/core/server.ts\`) and for a baseline receiver built the straightforward way
(\`bench/baseline-receiver.ts\`: \`@grpc/grpc-js\` with a service whose deserializer is the
protobufjs \`decode\` of the OTLP schema loaded at run time, a \`node:http\` server doing the same
decode, the decoded request objects kept as they are plus a \`Map\` from trace id to span
objects). \`@opentelemetry/otlp-transformer\` 0.223 no longer ships a protobufjs root and no OTLP
\`.proto\` is installed, so the baseline's schema is the OTLP trace schema written as a protobufjs
JSON descriptor and loaded by reflection (\`Root.fromJSON\`), which is what
\`protobuf.loadSync(...)\` of the \`.proto\` files yields.

**How.**
- Requests are real OTLP: ${SPANS_PER_BATCH} spans per \`ExportTraceServiceRequest\`
  (~${fmt(bytesPerBatch / 1024)} KiB), made by the OpenTelemetry JS SDK and encoded by its
  \`ProtobufTraceSerializer\`. The spans are those of a RAG inference pipeline
  (\`inference_request\` > \`preprocessing\`, \`embedding\`, \`retrieve_documents\` >
  \`vector_search\`, \`reranking\`, \`generation\`, \`postprocessing\`), ${SPANS_PER_TRACE} per
  trace, 10 attributes each (strings, ints, doubles, bools, arrays), 2-3 events with attributes,
  a resource of 11 attributes, two scopes. Every request carries fresh trace ids, so no span is
  a duplicate. Both decoders are checked to read the same spans before anything is timed.
- Both receivers run as esbuild bundles built like \`dist/\` (the code as shipped), each in its
  own child process, a fresh one per run: the sender does not share the receiver's event loop,
  and the receiver's memory is measured alone. The sender is a grpc-js client with identity
  serializers (pre-encoded bytes) and a keep-alive \`node:http\` client, each with
  ${opts.inFlight} requests in flight.
- Per run: ${opts.warmup} warm-up requests per transport; then, per transport, the store is
  emptied, memory taken after forced GCs, ${opts.batches} requests
  (${fmt(opts.batches * SPANS_PER_BATCH)} spans) sent and timed from the first send to the last
  response, forced GCs, memory taken again. Everything sent is stored (nothing evicted).
- **Bytes per span** is the growth of \`heapUsed + external\` (external counts ArrayBuffers,
  such as Node \`Buffer\`s) divided by the spans stored, averaged over the two phases. After
  forced GCs it counts live bytes only, so it repeats to within a few bytes. RSS growth is shown
  too; it also counts heap pages that V8 keeps after collecting, so it depends on the heap's
  growth policy and is noisier.
- **Transport only** is a third receiver on the same grpc-js and \`node:http\` servers that
  answers without decoding or keeping anything: the most any receiver on these transports can
  reach with this sender on this machine.
- **CPU µs/span** is the receiver process's CPU time (GC threads included) per span during the
  timed phase. It moves less than spans/s when other work shares the machine.
- ${opts.runs} runs per receiver, alternated (Stagelight, baseline, transport only, Stagelight,
  ...); the figures are medians. The CPU columns of each run are the share of one core used by
  the receiver and by the sender during the timed phase: a receiver near 100% (or above: GC
  threads) is the bottleneck; both well below 100% means waiting (flow control, or other load
  on the machine).

**Machine.** ${machineLine}.

**Results** (medians of ${opts.runs} runs):

${markdownTable(header!, body)}

Goals: throughput at least 3x the baseline's (gRPC: ${goal(s.grpcSpeedup >= 3)}, HTTP:
${goal(s.httpSpeedup >= 3)}); memory per span at most a third of the baseline's:
${goal(s.memoryRatio <= 1 / 3)}.

Each run:

${markdownTable(RUN_HEADER, results.map(runLine))}

Reproduce with:

\`\`\`sh
${COMMAND}
\`\`\`

\`npm run bench:ingest -- --runs=5 --batches=300\` runs longer; \`--no-docs\` leaves this file
alone; \`--cpu-prof=DIR\` writes a CPU profile of each Stagelight receiver process.
${DOCS_END}`;
}

async function main(): Promise<void> {
  const script = path.resolve(process.argv[1]!);
  const root = path.resolve(path.dirname(script), '..');
  const opts = parseOptions(process.argv.slice(2));
  const t0 = performance.now();
  const bundles = await buildBundles(root);
  const templates = generateTemplates();
  const { bytesPerBatch } = checkTemplates(templates, bundles);
  const source = new BatchSource(templates);
  const machineLine = machine();
  console.log(
    `Ingest: ${SPANS_PER_BATCH} spans/request (${fmt(bytesPerBatch)} bytes), ` +
      `${opts.batches} requests per transport per run, ${opts.inFlight} in flight, ` +
      `${opts.runs} runs per receiver\n${machineLine}\n`,
  );
  const results: RunResult[] = [];
  const widths = RUN_HEADER.map((h) => h.length);
  const print = (row: string[]) =>
    console.log(row.map((c, i) => (i === 0 ? c.padEnd(10) : c.padStart(widths[i]!))).join('  '));
  print(RUN_HEADER);
  for (let run = 1; run <= opts.runs; run++) {
    for (const kind of KINDS) {
      const r = await runOnce(kind, bundles[bundleOf(kind)], source, opts, script);
      results.push(r);
      print(runLine(r));
    }
  }
  const summary = summarize(results, opts);
  console.log(`\nMedians of ${opts.runs} runs:\n${table(summary)}`);
  if (opts.docs) {
    const file = writeBenchSection(
      root,
      'ingest',
      docsSection(summary, results, opts, bytesPerBatch, machineLine),
    );
    console.log(`wrote ${path.relative(root, file)}`);
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  console.log(JSON.stringify(summary));
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
