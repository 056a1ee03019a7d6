/**
 * `stagelight` command line: `serve` runs the receiver, store and read API without VS Code.
 */
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import path from 'node:path';
import {
  startServer,
  DEFAULT_GRPC_PORT,
  DEFAULT_HTTP_PORT,
  LOOPBACK,
  type RunningServer,
} from '../core/server.js';
import type { Logger } from '../core/logger.js';
import { ListenError } from '../core/receiver/ports.js';
import { canonicalHost } from '../core/receiver/access.js';
import { forwardUrl } from '../core/receiver/forwarder.js';
import { SpanLogError } from '../core/store/span-log.js';
import { MIB, MIN_MAX_MEMORY_BYTES } from '../core/memory-budget.js';
import { demoCommand, DemoUsageError, DEMO_HELP } from './demo.js';
import { mcpCommand, McpUsageError, MCP_HELP } from './mcp.js';
import { SCAFFOLD_HELP } from './scaffold-help.js';
import {
  ScaffoldUsageError,
  parseScaffoldArgs,
  reportUsageError,
  type ScaffoldRequest,
} from './scaffold-args.js';
import type * as ScaffoldCli from './scaffold.js';
import { pullCommand, PullUsageError, PULL_HELP } from './pull.js';
import { formatCount } from '../shared/format.js';

declare const STAGELIGHT_VERSION: string | undefined;
const VERSION = typeof STAGELIGHT_VERSION === 'string' ? STAGELIGHT_VERSION : '0.0.0-dev';

/** Upper bound of --max-memory-mib: 1 TiB. */
const MAX_MEMORY_MIB = 1024 * 1024;

/** Upper bound of --max-body-mib: grpc-js takes the limit as a 32-bit int, and 1 GiB is plenty. */
const MAX_BODY_MIB = 1024;

const HELP = `stagelight ${VERSION}: trace-driven development of ML inference pipelines

Usage:
  stagelight serve [options]     run the local OTLP receiver, trace store and read API
  stagelight demo [options]      run the bundled demo ML pipeline and print its per-stage table
  stagelight mcp [options]       serve the assistant tools over MCP (stdio, or HTTP on loopback)
  stagelight scaffold <command> <file> [options]
                                 add OpenTelemetry instrumentation to a file (prints a diff)
  stagelight pull [options]      bring traces from a team backend (Jaeger) into a running receiver
  stagelight --help | --version

serve options:
  --host <addr>             bind address (default ${LOOPBACK}; anything else exposes the
                            receiver to your network and must be asked for explicitly; the
                            read API then needs an access token)
  --grpc-port <n>           OTLP/gRPC port (default ${DEFAULT_GRPC_PORT}; 0 = any free port)
  --http-port <n>           OTLP/HTTP and read API port (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --strict-ports            fail when a port is taken instead of using the next free one
  --data <dir>              persist received spans to <dir>/spans.log and replay them at start
  --max-memory-mib <n>      memory budget in MiB (default 512, at least 16): spans, indexes,
                            analysis, statistics and forwarding queue together; beyond it the
                            oldest traces are evicted (errors and the slowest kept longer)
  --max-spans <n>           span budget of the store (default 200000), a second limit
  --max-body-mib <n>        largest accepted request after decompression, in MiB (default 16,
                            at most ${MAX_BODY_MIB})
  --forward <url>           also send every accepted batch to this OTLP/HTTP endpoint
                            (a collector, Tempo, Jaeger); e.g. http://localhost:5318. With
                            --data it reads them from the span log: nothing accepted is lost
                            while the upstream is down, and it resumes after a restart
  --max-forward-mib <n>     most data kept for a down upstream before the oldest is dropped
                            (and counted): on disk with --data (default 512), in memory
                            without (default 64)
  --cors-origin <origin>    allow browser exporters from this origin to post to /v1/traces
                            (repeatable; '*' = any; none by default; never the read API)
  --allow-host <name>       also answer HTTP requests whose Host is <name> (repeatable); by
                            default only loopback names and the --host address are answered,
                            so that web pages cannot reach the receiver by DNS rebinding
  --token <token>           access token the read API requires, as "Authorization: Bearer
                            <token>" (default: $STAGELIGHT_TOKEN; generated and printed when
                            --host is off loopback)
  --token-ingest            require the token for OTLP ingest too (HTTP and gRPC)
  --stats-window <s>        window of the per-stage statistics in seconds (default 300)
  --exit-when-idle <s>      exit once no span arrived for <s> seconds (for scripts)
  --quiet                   print only the endpoints and errors

${DEMO_HELP}

${MCP_HELP}
${SCAFFOLD_HELP}
${PULL_HELP}

Read API (on the HTTP port):
  GET /api/health
  GET /api/traces?service=&name=&minDurationMs=&error=&attribute=&limit=&sort=
                                            latest arrivals first (sort=start: latest starts;
                                            attribute=key or key=value: substrings of a span
                                            or resource attribute)
  GET /api/traces/{traceId}                 OTLP JSON
  GET /api/traces/{traceId}/critical-path
  GET /api/traces/{traceId}/explain         stages against the typical trace
  GET /api/traces/{traceId}/digest?top=     critical path by stage, waits, errors, source
                                            lines (bounded for any trace size)
  GET /api/sources                          each stage's code.file.path:code.line.number
  GET /api/stats                            per-stage count, errors, p50/p95/p99 (prod: the
                                            same over the traces pulled from a team backend)
  GET /api/insights?fresh=                  diagnoses of the latest run, most important first;
                                            what-ifs (fresh=true: with every span received)
  GET /api/insights/sampling?headRatio=&keepErrors=&latencyMs=
                                            what a sampling policy would keep
  GET /api/compare?a=&b=                    stage by stage, trace b against trace a; or
                                            trace=&against=typical|baseline|prod, or
                                            against=baseline|prod (the latest run)
  GET /api/baseline                         what the diagnoses compare against, or null
  POST /api/baseline                        pin one: {"label": ..., "traceIds": [...]} (JSON;
                                            without traceIds, the latest run)
  DELETE /api/baseline
  GET /api/traces/{traceId}/logs?spanId=&severity=&q=
                                            a trace's log records, by time
  GET /api/logs?service=&severity=&q=&since=&limit=&withoutSpan=
                                            the latest log records (severity: warn = WARN
                                            and above; since: epoch ms or 15m, 1h)
  GET /api/metrics                          the metrics held, per service and name
  GET /api/metrics?name=&service=&since=&until=
                                            a metric's series and their points

OTLP ingest (the same limits, Host check and token as traces):
  POST /v1/traces, /v1/logs, /v1/metrics    protobuf or JSON, gzip or not
  gRPC TraceService, LogsService, MetricsService Export
`;

class UsageError extends Error {}

function intOption(value: string | undefined, name: string, min: number, max: number) {
  if (value === undefined) return undefined;
  // Number('') is 0: an empty value must not quietly mean "any free port".
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function numberOption(value: string | undefined, name: string, min: number, max = Infinity) {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    const range = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a number ${range}, got "${value}"`);
  }
  return n;
}

/** `--host`: an IP address or a host name; a malformed address is a usage error, not a bind. */
function hostOption(value: string | undefined): string {
  if (value === undefined) return LOOPBACK;
  if (isIP(value) !== 0) return value;
  // Digits and dots only, or a colon, is meant as an address and is not a valid one; a name
  // must be one (whether it resolves is found when listening).
  if (/^[0-9.]+$/.test(value) || value.includes(':') || canonicalHost(value) === undefined) {
    throw new UsageError(`--host must be an IP address or a host name, got "${value}"`);
  }
  return value;
}

function allowHostOption(values: string[] | undefined): string[] | undefined {
  for (const v of values ?? []) {
    const host = canonicalHost(v);
    if (host === undefined || /:[0-9]+$/.test(v)) {
      throw new UsageError(`--allow-host needs a host name without a port, got "${v}"`);
    }
  }
  return values;
}

/** The token from `--token` or $STAGELIGHT_TOKEN: visible ASCII, no spaces (a bearer token). */
function tokenOption(flag: string | undefined): string | undefined {
  const fromEnv = flag === undefined ? process.env.STAGELIGHT_TOKEN : undefined;
  const token = flag ?? (fromEnv === '' ? undefined : fromEnv);
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    const source = flag !== undefined ? '--token' : 'STAGELIGHT_TOKEN';
    throw new UsageError(`${source} must be printable ASCII without spaces, and not empty`);
  }
  return token;
}

/** Says who may use the receiver: the token, and whether it was generated. */
function reportAccess(server: RunningServer, host: string, log: Logger): void {
  const { access } = server;
  if (access.offLoopback) {
    log.warn(`listening on ${host}: the receiver and read API are reachable from other machines.`);
  }
  if (access.token === undefined) return;
  const guarded = access.tokenForIngest
    ? 'The read API and OTLP ingest require'
    : 'The read API requires';
  console.log(`${guarded} the access token, as "Authorization: Bearer <token>".`);
  if (access.tokenGenerated) {
    console.log(`  Access token: ${access.token}
  (generated for this run; pass --token or set STAGELIGHT_TOKEN to choose one)`);
  }
  if (access.tokenForIngest) {
    const token = access.tokenGenerated ? access.token : '<token>';
    console.log(`  Exporters: OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20${token}`);
  }
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      'grpc-port': { type: 'string' },
      'http-port': { type: 'string' },
      'strict-ports': { type: 'boolean' },
      data: { type: 'string' },
      'max-spans': { type: 'string' },
      'max-memory-mib': { type: 'string' },
      'max-body-mib': { type: 'string' },
      forward: { type: 'string' },
      'max-forward-mib': { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      'allow-host': { type: 'string', multiple: true },
      token: { type: 'string' },
      'token-ingest': { type: 'boolean' },
      'stats-window': { type: 'string' },
      'exit-when-idle': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const quiet = values.quiet ?? false;
  const log: Logger = {
    info: (m) => {
      if (!quiet) console.log(m);
    },
    warn: (m) => console.warn(`warning: ${m}`),
    error: (m) => console.error(`error: ${m}`),
  };
  const maxBodyMib = numberOption(values['max-body-mib'], 'max-body-mib', 0.001, MAX_BODY_MIB);
  const statsWindow = numberOption(values['stats-window'], 'stats-window', 1);
  const idle = numberOption(values['exit-when-idle'], 'exit-when-idle', 0.1);
  const maxForwardMib = numberOption(values['max-forward-mib'], 'max-forward-mib', 1);
  const maxMemoryMib = numberOption(
    values['max-memory-mib'],
    'max-memory-mib',
    MIN_MAX_MEMORY_BYTES / MIB,
    MAX_MEMORY_MIB,
  );
  if (maxForwardMib !== undefined && values.forward === undefined) {
    throw new UsageError('--max-forward-mib only applies with --forward <url>');
  }
  if (values.forward !== undefined) {
    try {
      forwardUrl(values.forward);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const host = hostOption(values.host);
  const allowedHosts = allowHostOption(values['allow-host']);
  const accessToken = tokenOption(values.token);
  const server = await startServer({
    host,
    grpcPort: intOption(values['grpc-port'], 'grpc-port', 0, 65535),
    httpPort: intOption(values['http-port'], 'http-port', 0, 65535),
    strictPorts: values['strict-ports'],
    dataDir: values.data === undefined ? undefined : path.resolve(values.data),
    maxSpans: intOption(values['max-spans'], 'max-spans', 1, 100_000_000),
    maxMemoryBytes: maxMemoryMib === undefined ? undefined : Math.round(maxMemoryMib * MIB),
    maxBodyBytes: maxBodyMib === undefined ? undefined : Math.round(maxBodyMib * 1024 * 1024),
    forwardUrl: values.forward,
    forward:
      maxForwardMib === undefined
        ? undefined
        : { maxPendingBytes: Math.round(maxForwardMib * 1024 * 1024) },
    corsOrigins: values['cors-origin'],
    allowedHosts,
    accessToken,
    tokenForIngest: values['token-ingest'],
    statsWindowMs: statsWindow === undefined ? undefined : statsWindow * 1000,
    version: VERSION,
    log,
  });
  const { endpoints, engine } = server;
  const replay = engine.replayReport;
  if (replay !== undefined) {
    log.info(
      `Replayed ${formatCount(engine.store.spanCount, 'span')} (${formatCount(replay.records, 'batch', 'batches')}) from ${values.data}`,
    );
  }
  // The signal handlers go in before the endpoints are printed: whoever reads them may stop the
  // server at once, and must get the clean shutdown.
  const done = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(idleTimer);
      log.info(reason);
      const c = engine.counters;
      log.info(
        `Received ${formatCount(c.receivedSpans, 'span')} (${c.acceptedSpans} accepted, ${c.rejectedSpans} rejected, ` +
          `${formatCount(c.duplicateSpans, 'duplicate')}); holding ${formatCount(engine.store.spanCount, 'span')} in ` +
          `${formatCount(engine.store.traceCount, 'trace')}.`,
      );
      await server.close();
      resolve(0);
    };
    let lastSeen = Date.now();
    let lastCount = -1;
    const idleTimer =
      idle === undefined
        ? undefined
        : setInterval(
            () => {
              const count = engine.counters.receivedSpans + engine.counters.failedRequests;
              if (count !== lastCount) {
                lastCount = count;
                lastSeen = Date.now();
              } else if (Date.now() - lastSeen >= idle * 1000) {
                void stop(`No spans for ${idle} s; exiting.`);
              }
            },
            Math.min(1000, idle * 250),
          );
    process.once('SIGINT', () => void stop('Stopping (SIGINT).'));
    process.once('SIGTERM', () => void stop('Stopping (SIGTERM).'));
  });
  console.log(`Stagelight ${VERSION} receiving OpenTelemetry traces
  OTLP/gRPC  ${endpoints.grpc}
  OTLP/HTTP  ${endpoints.httpTraces}
  Read API   ${endpoints.api}/traces
Point your exporter at it:
  OTEL_EXPORTER_OTLP_ENDPOINT=${endpoints.grpc}   (gRPC)
  OTEL_EXPORTER_OTLP_ENDPOINT=${endpoints.http}   (HTTP/protobuf or JSON)`);
  reportAccess(server, host, log);
  if (server.forwarder) {
    const f = server.forwarder.status();
    const budget = `${Math.round(f.maxPendingBytes / (1024 * 1024))} MiB`;
    log.info(
      `Forwarding every accepted batch to ${f.url} ` +
        (f.mode === 'log'
          ? `from the span log (kept while it is down, up to ${budget}; ${f.pendingRecords} batches pending)`
          : `from memory (up to ${budget} held while it is down; use --data to keep them on disk)`),
    );
  }

  return done;
}

/**
 * The scaffolding command, loaded on first use: dist/cli-scaffold.js, its own bundle (the
 * TypeScript compiler and tree-sitter), by a computed path so esbuild leaves the `require` alone
 * and dist/cli.js stays small. Run from source (tsx), the module itself.
 */
function loadScaffoldCli(): typeof ScaffoldCli {
  const fromSource = __filename.endsWith('.ts');
  const file = path.join(__dirname, fromSource ? 'scaffold.ts' : 'cli-scaffold.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(file) as typeof ScaffoldCli;
  // Invariant: set before the first parse; the bundle cannot find the grammars in node_modules.
  if (!fromSource) loaded.setTreeSitterWasmDir(path.join(__dirname, 'wasm'));
  return loaded;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      console.log(HELP);
      return command === undefined ? 1 : 0;
    }
    if (command === '--version' || command === '-v') {
      console.log(VERSION);
      return 0;
    }
    if (command === 'serve') {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(HELP);
        return 0;
      }
      return await serve(rest);
    }
    if (command === 'demo') {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(HELP);
        return 0;
      }
      return await demoCommand(rest);
    }
    if (command === 'mcp') {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(HELP);
        return 0;
      }
      return await mcpCommand(rest);
    }
    if (command === 'scaffold') {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(SCAFFOLD_HELP);
        return 0;
      }
      let request: ScaffoldRequest;
      try {
        request = parseScaffoldArgs(rest);
      } catch (e) {
        const parseError = (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
        if (!(e instanceof ScaffoldUsageError) && !parseError) throw e;
        return reportUsageError(e as Error, (line) => console.error(line));
      }
      return await loadScaffoldCli().scaffoldCommand(request);
    }
    if (command === 'pull') {
      if (rest.includes('--help') || rest.includes('-h')) {
        console.log(HELP);
        return 0;
      }
      return await pullCommand(rest);
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof DemoUsageError ||
      e instanceof McpUsageError ||
      e instanceof PullUsageError ||
      (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`stagelight: ${(e as Error).message}\nRun "stagelight --help" for usage.`);
      return 2;
    }
    if (e instanceof ListenError) {
      // PortInUseError among them: a port or address to change, said in one line.
      console.error(`stagelight: ${e.message}`);
      return 3;
    }
    if (e instanceof SpanLogError) {
      console.error(`stagelight: cannot use the data folder: ${e.message}`);
      return 1;
    }
    console.error(`stagelight: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
