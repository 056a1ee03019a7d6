/**
 * A real Jaeger v2 (the OpenTelemetry Collector based one) for the tests and the peer benchmark:
 * built once per machine from the Go module proxy into `.cache/jaeger` (a throwaway module under
 * `.cache/jaeger-build` pins the version with `go get -tool`), then started on loopback ports
 * that were free a moment before, with its OTLP receiver (gRPC and HTTP), the query service
 * (HTTP API v3 and the UI's /api) and memory storage (or Badger, to survive a restart). Nothing of it is ever exposed beyond
 * 127.0.0.1.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths.js';

export const JAEGER_VERSION = 'v1.76.0';
const JAEGER_MODULE = 'github.com/jaegertracing/jaeger/cmd/jaeger';
const buildDir = path.join(repoRoot, '.cache', 'jaeger-build');
/** The cached binary. */
export const jaegerBinary = path.join(repoRoot, '.cache', 'jaeger', `jaeger-${JAEGER_VERSION}`);

/** Jaeger cannot be had on this machine (no Go); tests skip with the message. */
export class JaegerUnavailableError extends Error {}

export function jaegerInstalled(): boolean {
  return existsSync(jaegerBinary);
}

/**
 * Builds Jaeger when the binary is missing (minutes on a fresh machine: its modules come from
 * the Go module proxy). Throws JaegerUnavailableError when Go itself is missing.
 */
export function ensureJaeger(log: (line: string) => void = console.log): string {
  if (jaegerInstalled()) return jaegerBinary;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
    throw new JaegerUnavailableError('go is not installed: Jaeger is built from source with it');
  }
  mkdirSync(buildDir, { recursive: true });
  // The machine's own Go; never a toolchain named by a module.
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' };
  const run = (args: string[]): void => {
    log(`go ${args.join(' ')}`);
    execFileSync('go', args, { cwd: buildDir, env, stdio: 'inherit', timeout: 40 * 60_000 });
  };
  if (!existsSync(path.join(buildDir, 'go.mod')))
    run(['mod', 'init', 'stagelight.dev/jaeger-build']);
  run(['get', '-tool', `${JAEGER_MODULE}@${JAEGER_VERSION}`]);
  mkdirSync(path.dirname(jaegerBinary), { recursive: true });
  const partial = `${jaegerBinary}.partial`;
  run(['build', '-o', partial, JAEGER_MODULE]);
  renameSync(partial, jaegerBinary);
  return jaegerBinary;
}

/** A port on loopback that nothing listens on (just now). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface JaegerPorts {
  otlpGrpc: number;
  otlpHttp: number;
  queryHttp: number;
  queryGrpc: number;
  health: number;
}

export interface JaegerOptions {
  /** Traces the memory storage keeps (default 1,000,000). */
  maxTraces?: number;
  /**
   * Badger storage in this folder instead of memory: what Jaeger stored survives its restart
   * (start again with the same folder and `ports`).
   */
  badgerDir?: string;
  /** Reuse these ports (a restart keeps its addresses). */
  ports?: JaegerPorts;
  /** Pin the process to these CPUs with taskset (the peer benchmark). */
  cpus?: string;
  /** GOMAXPROCS for the process. */
  maxProcs?: number;
}

export interface RunningJaeger {
  ports: JaegerPorts;
  /** OTLP/HTTP base, e.g. http://127.0.0.1:4318 (traces go to /v1/traces). */
  otlpHttpUrl: string;
  /** OTLP/gRPC address, host:port. */
  otlpGrpcAddress: string;
  /** Query service base (API v3 under /api/v3, the UI's API under /api). */
  queryUrl: string;
  pid: number;
  /** stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** The collector configuration: OTLP in, memory storage, query service; all on loopback. */
function config(ports: JaegerPorts, opts: JaegerOptions): string {
  const storage =
    opts.badgerDir !== undefined
      ? `        badger:
          directories:
            keys: ${JSON.stringify(path.join(opts.badgerDir, 'keys'))}
            values: ${JSON.stringify(path.join(opts.badgerDir, 'values'))}
          ephemeral: false`
      : `        memory:
          max_traces: ${opts.maxTraces ?? 1_000_000}`;
  return `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: []
      exporters: [jaeger_storage_exporter]
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${ports.health}
  jaeger_storage:
    backends:
      store:
${storage}
  jaeger_query:
    # Its own tracing (on by default) exports to 127.0.0.1:4317, which may be a Stagelight
    # receiver, and holds every exit 10 s waiting for that exporter.
    enable_tracing: false
    storage:
      traces: store
    http:
      endpoint: 127.0.0.1:${ports.queryHttp}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${ports.otlpGrpc}
        max_recv_msg_size_mib: 64
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
exporters:
  jaeger_storage_exporter:
    trace_storage: store
`;
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`jaeger exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`jaeger did not become ready in 60 s:\n${output()}`);
}

/** Starts Jaeger (building it first when needed) and waits until its query service answers. */
export async function startJaeger(opts: JaegerOptions = {}): Promise<RunningJaeger> {
  const binary = ensureJaeger();
  const ports: JaegerPorts = opts.ports ?? {
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    queryHttp: await freePort(),
    queryGrpc: await freePort(),
    health: await freePort(),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagelight-jaeger-'));
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(configFile, config(ports, opts));
  const env = { ...process.env };
  if (opts.maxProcs !== undefined) env.GOMAXPROCS = String(opts.maxProcs);
  const [command, args] =
    opts.cpus !== undefined
      ? ['taskset', ['-c', opts.cpus, binary, '--config', configFile]]
      : [binary, ['--config', configFile]];
  const child = spawn(command, args as string[], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = (): string => out;
  const queryUrl = `http://127.0.0.1:${ports.queryHttp}`;
  try {
    await waitReady(`${queryUrl}/api/services`, child, output);
    await waitReady(`http://127.0.0.1:${ports.health}/status`, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ports,
    otlpHttpUrl: `http://127.0.0.1:${ports.otlpHttp}`,
    otlpGrpcAddress: `127.0.0.1:${ports.otlpGrpc}`,
    queryUrl,
    pid: child.pid as number,
    output,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
