/**
 * Runs the demo pipeline: finds or starts a receiver, starts the worker processes (model runner
 * pools and the retrieval worker), drives the load, stops every process, and computes the
 * per-stage table. `stagelight demo` is a thin command line over `runDemo`.
 *
 * `runDemo` sets the OpenTelemetry context manager and propagator of its process: call it from a
 * process you own (the CLI, a test, a child process), not from a host shared with other code
 * (the VS Code layer spawns `dist/cli.js demo`).
 */
import path from 'node:path';
import { startServer, type RunningServer } from '../src/core/server.js';
import { TraceEngine } from '../src/core/engine.js';
import type { Logger } from '../src/core/logger.js';
import { SCENARIOS, type Scenario, type ScenarioName } from './scenarios.js';
import { defaultCacheDir, loadOrBuildModel } from './models/model-cache.js';
import { modelSpecs, type ModelKind } from './models/transformer.js';
import { findDemoBundleDir, WorkerProcess } from './pipeline/worker-process.js';
import { Gateway, GATEWAY_SERVICE, ReplicaPool, type RequestOutcome } from './pipeline/gateway.js';
import { startTracing } from './telemetry/tracing.js';
import { formatStageTable, stageTable, type StageRow } from './report.js';
import type { DeviceAttempt, DeviceRequest, RetrievalConfig, RunnerConfig } from './protocol.js';

/** The model stages, each served by its own runner pool. */
export const MODEL_STAGES = ['embedding', 'reranking', 'generation'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];
const STAGE_MODEL: Record<ModelStage, ModelKind> = {
  embedding: 'encoder',
  reranking: 'cross-encoder',
  generation: 'decoder',
};
const DEVICES: readonly DeviceRequest[] = ['auto', 'cpu', 'cuda', 'webgpu'];

export interface DemoOptions {
  scenario?: ScenarioName;
  /**
   * `auto` (default), `cpu`, `cuda` or `webgpu` for every model stage, or per stage:
   * "generation=cuda,reranking=cpu" (stages not named use auto).
   */
  device?: string;
  /** Number of requests; the scenario's default when neither this nor `durationS` is given. */
  requests?: number;
  /** Run for this many seconds instead of a number of requests. */
  durationS?: number;
  /** Open-loop arrival rate; without it, `concurrency` clients send back to back. */
  rps?: number;
  /** Requests in flight at most (default: the scenario's). */
  concurrency?: number;
  /** OTLP/gRPC endpoint to export to; without it a local receiver is found or started. */
  endpoint?: string;
  /** Stagelight read API (e.g. http://127.0.0.1:4318/api) to build the table from. */
  apiUrl?: string;
  /** Model size factor in (0, 4]; 1 (default) makes a request take about 1-3 s on one core. */
  modelScale?: number;
  cacheDir?: string;
  /** False: no tracer provider at all (for measuring the overhead of tracing). */
  tracing?: boolean;
  /** Ports of an embedded receiver (defaults 4317/4318, the next free one when taken). */
  grpcPort?: number;
  httpPort?: number;
  /** Keep the embedded receiver running and return it (the caller closes it). */
  keepReceiver?: boolean;
  /** Folder of the worker bundles (default: found next to this module). */
  bundleDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Aborting stops the load, then every process, and still returns what was measured. */
  signal?: AbortSignal;
  /** Seed of the scenario's random choices. */
  seed?: number;
  /**
   * Normal requests sent first, whose traces are pinned as the receiver's baseline (label
   * "demo warm-up"), so that the incident is measured against how the same processes ran
   * before it. Default {@link DEFAULT_WARMUP}; 0 for none. Cold start has none (its first
   * requests are the point).
   */
  warmup?: number;
  /**
   * Skews the worker processes' clocks by about this many ms (alternating signs, some twice),
   * as hosts whose clocks disagree would: the traces must read the same. Default 0.
   */
  clockSkewMs?: number;
  /** Called when the scenario's own requests begin (after the warm-up). */
  onLoadStart?: () => void;
}

/** Warm-up requests before the scenario's own, pinned as the baseline. */
export const DEFAULT_WARMUP = 8;
/** A call's deadline before the warm-up measured one (a cold start's model load fits). */
const COLD_DEADLINE_MS = 120_000;
/** After the warm-up: this many times a normal call's median, at least 1 s. */
const DEADLINE_MULTIPLE = 10;
/** The baseline's label. */
export const WARMUP_BASELINE_LABEL = 'demo warm-up';

export interface DeviceReport {
  readonly stage: ModelStage;
  readonly replica: string;
  /** Undefined when the model loads on first request (cold start). */
  readonly device?: string;
  readonly attempts: DeviceAttempt[];
}

export interface DemoResult {
  readonly scenario: ScenarioName;
  /** Where the spans went (OTLP/gRPC). */
  readonly endpoint: string;
  /** Where they can be read, when it is a Stagelight receiver. */
  readonly apiUrl?: string;
  readonly outcomes: RequestOutcome[];
  /** The warm-up requests' traces (not in `outcomes`), pinned as the baseline. */
  readonly warmupTraceIds: string[];
  /** Wall clock (epoch ms) when the scenario's own requests began, after the warm-up. */
  readonly loadStartedAt: number;
  /** The per-stage table; undefined when the receiver cannot be read back. */
  readonly table?: StageRow[];
  readonly devices: DeviceReport[];
  readonly wallMs: number;
  readonly aborted: boolean;
  /** The embedded receiver, when `keepReceiver` was set and one was started. */
  readonly receiver?: RunningServer;
}

/** A failure that stops the demo (bad options, a worker that cannot start, no receiver). */
export class DemoError extends Error {
  override name = 'DemoError';
}

/** Parses a device option: one device for all stages, or `stage=device` pairs. */
export function parseDeviceOption(spec: string | undefined): Record<ModelStage, DeviceRequest> {
  const out: Record<ModelStage, DeviceRequest> = {
    embedding: 'auto',
    reranking: 'auto',
    generation: 'auto',
  };
  if (spec === undefined || spec.trim() === '') return out;
  const isDevice = (d: string): d is DeviceRequest => (DEVICES as readonly string[]).includes(d);
  if (!spec.includes('=')) {
    const d = spec.trim();
    if (!isDevice(d)) throw new DemoError(`unknown device "${d}" (use ${DEVICES.join(', ')})`);
    for (const s of MODEL_STAGES) out[s] = d;
    return out;
  }
  for (const part of spec.split(',')) {
    const [stage, device] = part.split('=').map((x) => x.trim());
    if (!(MODEL_STAGES as readonly string[]).includes(stage ?? '')) {
      throw new DemoError(`unknown stage "${stage}" in --device (use ${MODEL_STAGES.join(', ')})`);
    }
    if (device === undefined || !isDevice(device)) {
      throw new DemoError(`unknown device "${device}" for ${stage} (use ${DEVICES.join(', ')})`);
    }
    out[stage as ModelStage] = device;
  }
  return out;
}

const quietLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** The HTTP port of a Stagelight receiver on this machine, where `stagelight serve` listens. */
const LOCAL_RECEIVER_HTTP = 'http://127.0.0.1:4318';

/**
 * The gRPC endpoint and read API of the Stagelight receiver whose HTTP port is `httpUrl`, read
 * from its `/api/health`; undefined when nothing answers there, or not a Stagelight receiver.
 */
async function findReceiver(
  httpUrl: string = LOCAL_RECEIVER_HTTP,
): Promise<{ grpc: string; api: string } | undefined> {
  try {
    const res = await fetch(new URL('/api/health', httpUrl), {
      signal: AbortSignal.timeout(700),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as {
      status?: string;
      endpoints?: { grpc?: string; api?: string };
    };
    if (
      body.status === 'ok' &&
      body.endpoints?.grpc !== undefined &&
      body.endpoints.api !== undefined
    ) {
      return { grpc: body.endpoints.grpc, api: body.endpoints.api };
    }
  } catch {
    // Nothing there, or not ours.
  }
  return undefined;
}

/** Retrieval index sizes at a model scale: the corpus grows with the models. */
function retrievalConfig(
  scale: number,
  endpoint: string,
  tracing: boolean,
  scenario: (typeof SCENARIOS)[ScenarioName],
  seed: number,
): RetrievalConfig {
  return {
    endpoint,
    tracing,
    dim: 64,
    docs: Math.max(2000, Math.round(60_000 * scale)),
    mode: scenario.retrievalMode,
    expansions: scenario.retrievalExpansions,
    seed: seed + 7,
  };
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? (() => {});
  const scenario = SCENARIOS[opts.scenario ?? 'normal'];
  if (scenario === undefined) throw new DemoError(`unknown scenario "${String(opts.scenario)}"`);
  const devices = parseDeviceOption(opts.device);
  const scale = opts.modelScale ?? 1;
  modelSpecs(scale); // validates the scale
  const tracingOn = opts.tracing ?? true;
  const seed = opts.seed ?? 1;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const requests =
    opts.durationS === undefined ? (opts.requests ?? scenario.defaults.requests) : opts.requests;
  const concurrency = opts.concurrency ?? scenario.defaults.concurrency;
  const rps = opts.rps ?? scenario.defaults.rps;
  const bundleDir = findDemoBundleDir(opts.bundleDir);

  // 1. A receiver: the one given, a local Stagelight already running, or an embedded one.
  let server: RunningServer | undefined;
  let endpoint = opts.endpoint;
  let apiUrl = opts.apiUrl;
  if (endpoint !== undefined && tracingOn) {
    // The demo exports OTLP/gRPC. Given the HTTP port of a Stagelight receiver instead (its
    // read API answers there), use that receiver's gRPC endpoint rather than fail every export.
    const receiver = await findReceiver(endpoint);
    if (receiver !== undefined) {
      log(
        `${endpoint} is the OTLP/HTTP port of a Stagelight receiver; exporting to its ` +
          `OTLP/gRPC endpoint ${receiver.grpc}`,
      );
      endpoint = receiver.grpc;
      apiUrl ??= receiver.api;
    }
  }
  if (endpoint === undefined && tracingOn) {
    const local = await findReceiver();
    if (local !== undefined) {
      endpoint = local.grpc;
      apiUrl ??= local.api;
      log(`Exporting to the Stagelight receiver at ${endpoint}`);
    } else {
      server = await startServer({
        grpcPort: opts.grpcPort,
        httpPort: opts.httpPort,
        log: quietLogger,
      });
      endpoint = server.endpoints.grpc;
      apiUrl = server.endpoints.api;
      log(`Started an embedded receiver: OTLP/gRPC ${endpoint}, read API ${apiUrl}`);
    }
  }
  endpoint ??= 'http://127.0.0.1:4317';

  const workers: WorkerProcess[] = [];
  // Worker k's clock offset: +s, -s, +2s, -s/2, ... so that every kind of overrun shows.
  const skew = opts.clockSkewMs ?? 0;
  const skewOf = (k: number): number => (skew === 0 ? 0 : skew * [1, -1, 2, -0.5][k % 4]!);
  const started = performance.now();
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    // Requests in flight fail at once (their workers are gone) rather than finishing.
    void Promise.all(workers.map((w) => w.stop(2000)));
  };
  opts.signal?.addEventListener('abort', onAbort);
  const tracing = startTracing({ serviceName: GATEWAY_SERVICE, endpoint, enabled: tracingOn });
  try {
    // 2. Worker processes: a runner pool per model stage, and the retrieval worker.
    const runnerEntry = path.join(bundleDir, 'model-runner.js');
    const pools: Record<ModelStage, WorkerProcess[]> = {
      embedding: [],
      reranking: [],
      generation: [],
    };
    for (const stage of MODEL_STAGES) {
      const replicas = stage === 'generation' ? 3 : 1;
      for (let i = 0; i < replicas; i++) {
        const replica = `${stage}-${String.fromCharCode(97 + i)}`;
        const cfg: RunnerConfig = {
          model: STAGE_MODEL[stage],
          replica,
          device: devices[stage],
          modelScale: scale,
          cacheDir,
          endpoint,
          tracing: tracingOn,
          lazyLoad: scenario.lazyLoad,
          maxBatch: 4,
          maxWaitMs: 5,
          clockOffsetMs: skewOf(workers.length),
          // Throttling starts with the scenario's load (a configure message), as a replica
          // degrades at run time: started throttled, its warm-up would be slow too, and the
          // deadlines set from the warm-up's calls would stretch to minutes.
          seed: seed * 100 + i,
        };
        const w = new WorkerProcess(replica, runnerEntry, cfg);
        pools[stage].push(w);
        workers.push(w);
      }
    }
    const retrieval = new WorkerProcess('retrieval', path.join(bundleDir, 'retrieval-worker.js'), {
      ...retrievalConfig(scale, endpoint, tracingOn, SCENARIOS.normal, seed),
      clockOffsetMs: skewOf(workers.length),
    });
    workers.push(retrieval);
    log(
      `Starting ${workers.length} worker processes (scenario ${scenario.name}: ${scenario.description})`,
    );
    // Build (or read) the models once here, so that replicas do not all build them at once.
    for (const spec of modelSpecs(scale)) {
      let built: boolean;
      try {
        built = loadOrBuildModel(cacheDir, spec).built;
      } catch (e) {
        throw new DemoError(
          `cannot build or cache the models in ${cacheDir}: ${(e as Error).message}`,
        );
      }
      if (built) log(`Built ${spec.name} (synthetic weights) in ${cacheDir}`);
    }
    const ready = await Promise.allSettled(workers.map((w) => w.start()));
    const failed = ready.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined)
      throw new DemoError(`a worker failed to start: ${(failed.reason as Error).message}`);

    const deviceReports: DeviceReport[] = [];
    for (const stage of MODEL_STAGES) {
      for (const w of pools[stage]) {
        deviceReports.push({
          stage,
          replica: w.name,
          device: w.ready?.device,
          attempts: w.ready?.attempts ?? [],
        });
      }
      const first = pools[stage][0]!.ready;
      if (first?.device === undefined)
        log(`  ${stage}: model loads on the first request (device ${devices[stage]})`);
      else {
        const why = (first.attempts ?? []).map((a) => `${a.device}: ${a.reason}`).join('; ');
        log(`  ${stage}: ${first.device}${why === '' ? '' : ` (${why})`}`);
      }
    }
    // Until the warm-up's normal requests say what a call takes here, deadlines are generous
    // (a cold start's model load fits in them); then `calibrate` sets them (below).
    const replicaPools = {
      embedding: new ReplicaPool('embedding', pools.embedding, COLD_DEADLINE_MS),
      reranking: new ReplicaPool('reranking', pools.reranking, COLD_DEADLINE_MS),
      generation: new ReplicaPool('generation', pools.generation, COLD_DEADLINE_MS),
    };
    const gateway = new Gateway({
      tracer: tracing.tracer,
      log: tracing.log,
      meter: tracing.meter,
      scenario,
      ...replicaPools,
      retrieval,
      seed,
    });

    // 3. A normal warm-up in the same processes, pinned as the baseline, then the scenario.
    const warmup = tracingOn ? (opts.warmup ?? (scenario.lazyLoad ? 0 : DEFAULT_WARMUP)) : 0;
    const configure = (s: Scenario) => {
      gateway.setScenario(s);
      retrieval.configure({
        type: 'configure',
        retrieval: { mode: s.retrievalMode, expansions: s.retrievalExpansions },
      });
      pools.generation.forEach((w, i) =>
        w.configure({
          type: 'configure',
          throttle: s.throttledReplica?.index === i ? s.throttledReplica.throttle : null,
        }),
      );
      for (const w of pools.reranking) {
        w.configure({ type: 'configure', modelVersion: s.rerankerVersion });
      }
    };
    const warmupTraceIds: string[] = [];
    if (warmup > 0) {
      configure(SCENARIOS.normal);
      log(
        `Warming up with ${warmup} normal requests (pinned as the baseline "${WARMUP_BASELINE_LABEL}")`,
      );
      let k = 0;
      await Promise.all(
        Array.from({ length: Math.min(2, concurrency) }, async () => {
          while (!aborted && k < warmup) {
            const o = await gateway.handle(WARMUP_INDEX + k++);
            warmupTraceIds.push(o.traceId);
          }
        }),
      );
      await pinWarmup(server, apiUrl, warmupTraceIds, log);
      // Deadlines at a multiple of a normal call's median on this machine, now: a scenario's
      // slower stage (several times the reranking work) still answers in time, and only a
      // stalled replica, which hangs past its deadline by design, times out.
      const set = (['embedding', 'reranking', 'generation'] as const).map(
        (stage) =>
          `${stage} ${(replicaPools[stage].calibrate(DEADLINE_MULTIPLE, 1000) / 1000).toFixed(1)} s`,
      );
      log(`  deadlines: ${set.join(', ')}`);
      // The warm-up's questions would be cache hits now: the run must not differ from the
      // baseline by that.
      gateway.clearCaches();
    }
    configure(scenario);

    // 4. Load.
    const outcomes: RequestOutcome[] = [];
    const loadStart = Date.now();
    if (warmup > 0 && scenario.name !== 'normal') log(`Scenario ${scenario.name} from now on`);
    opts.onLoadStart?.();
    let next = 0;
    const more = () =>
      !aborted &&
      (requests === undefined || next < requests) &&
      (opts.durationS === undefined || Date.now() - loadStart < opts.durationS * 1000);
    const one = async (i: number) => {
      const o = await gateway.handle(i);
      outcomes.push(o);
      if (!o.ok) log(`  request ${i} failed: ${o.error?.split('\n')[0]}`);
    };
    log(
      `Sending ${requests ?? `requests for ${opts.durationS} s`}` +
        (rps === undefined
          ? ` with ${concurrency} in flight`
          : ` at ${rps}/s (at most ${concurrency} in flight)`),
    );
    if (rps === undefined) {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (more()) await one(next++);
        }),
      );
    } else {
      const inflight = new Set<Promise<void>>();
      while (more()) {
        if (inflight.size < concurrency) {
          const p = one(next++).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await new Promise((r) => setTimeout(r, 1000 / rps));
      }
      await Promise.all(inflight);
    }

    // 5. Stop every worker (each flushes its spans first), then flush our own.
    await Promise.all(workers.map((w) => w.stop()));
    await tracing.shutdown();
    const wallMs = performance.now() - started;

    // 6. The per-stage table, from the receiver's store and analysis.
    const traceIds = outcomes.map((o) => o.traceId);
    let table: StageRow[] | undefined;
    if (tracingOn) {
      if (server !== undefined) table = stageTable(server.engine, traceIds);
      else if (apiUrl !== undefined) table = await tableFromApi(apiUrl, traceIds);
    }
    return {
      scenario: scenario.name,
      endpoint,
      apiUrl,
      outcomes: outcomes.sort((a, b) => a.index - b.index),
      warmupTraceIds,
      loadStartedAt: loadStart,
      table,
      devices: deviceReports,
      wallMs,
      aborted,
      receiver: opts.keepReceiver ? server : undefined,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.stop(2000)));
    await tracing.shutdown().catch(() => {});
    if (server !== undefined && !opts.keepReceiver) await server.close();
  }
}

/** Request indexes of the warm-up, apart from the scenario's own (0, 1, ...). */
const WARMUP_INDEX = 1_000_000;

/**
 * Pins the warm-up's traces as the baseline: in the embedded receiver directly, else through
 * the read API (`POST /api/baseline`), which takes them once they are analysed. A receiver that
 * is not Stagelight's, or refuses, only costs the comparison: the run goes on.
 */
async function pinWarmup(
  server: RunningServer | undefined,
  apiUrl: string | undefined,
  traceIds: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  if (traceIds.length === 0) return;
  if (server !== undefined) {
    server.engine.pinBaselineFromTraces(traceIds, WARMUP_BASELINE_LABEL, 'warm-up');
    return;
  }
  if (apiUrl === undefined) return;
  const token = process.env.STAGELIGHT_TOKEN;
  try {
    const res = await fetch(`${apiUrl}/baseline`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token !== undefined && token !== '' ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ label: WARMUP_BASELINE_LABEL, traceIds, source: 'warm-up' }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) log(`  (the receiver did not take the warm-up as a baseline: HTTP ${res.status})`);
  } catch (e) {
    log(`  (the receiver did not take the warm-up as a baseline: ${(e as Error).message})`);
  }
}

/** Reads the run's traces back from a Stagelight read API into a private engine. */
async function tableFromApi(
  apiUrl: string,
  traceIds: readonly string[],
): Promise<StageRow[] | undefined> {
  const engine = await TraceEngine.open({});
  try {
    for (const id of traceIds) {
      const res = await fetch(`${apiUrl}/traces/${id}`).catch(() => undefined);
      if (res === undefined) return undefined;
      if (!res.ok) continue;
      engine.ingestJson(new Uint8Array(await res.arrayBuffer()), 'http');
    }
    return stageTable(engine, traceIds);
  } finally {
    await engine.close();
  }
}

export { formatStageTable };
