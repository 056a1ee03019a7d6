/**
 * `stagelight` command line: `serve` runs the receiver, store and read API without VS Code.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { startServer, DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, LOOPBACK } from '../core/server.js';
import { PortInUseError, type Logger } from '../core/receiver/ports.js';
import { forwardUrl } from '../core/receiver/forwarder.js';
import { SpanLogError } from '../core/store/span-log.js';
import { demoCommand, DemoUsageError, DEMO_HELP } from './demo.js';

declare const STAGELIGHT_VERSION: string | undefined;
const VERSION = typeof STAGELIGHT_VERSION === 'string' ? STAGELIGHT_VERSION : '0.0.0-dev';

const HELP = `stagelight ${VERSION}: trace-driven development of ML inference pipelines

Usage:
  stagelight serve [options]     run the local OTLP receiver, trace store and read API
  stagelight demo [options]      run the bundled demo ML pipeline and print its per-stage table
  stagelight --help | --version

serve options:
  --host <addr>             bind address (default ${LOOPBACK}; anything else exposes the
                            receiver to your network and must be asked for explicitly)
  --grpc-port <n>           OTLP/gRPC port (default ${DEFAULT_GRPC_PORT}; 0 = any free port)
  --http-port <n>           OTLP/HTTP and read API port (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --strict-ports            fail when a port is taken instead of using the next free one
  --data <dir>              persist received spans to <dir>/spans.log and replay them at start
  --max-spans <n>           span budget of the store (default 200000)
  --max-body-mib <n>        largest accepted request after decompression (default 16)
  --forward <url>           also send every accepted batch to this OTLP/HTTP endpoint
                            (a collector, Tempo, Jaeger); e.g. http://localhost:5318. With
                            --data it reads them from the span log: nothing accepted is lost
                            while the upstream is down, and it resumes after a restart
  --max-forward-mib <n>     most data kept for a down upstream before the oldest is dropped
                            (and counted): on disk with --data (default 512), in memory
                            without (default 64)
  --cors-origin <origin>    allow browser exporters from this origin (repeatable; '*' = any;
                            none by default)
  --stats-window <s>        window of the per-stage statistics in seconds (default 300)
  --exit-when-idle <s>      exit once no span arrived for <s> seconds (for scripts)
  --quiet                   print only the endpoints and errors

${DEMO_HELP}

Read API (on the HTTP port):
  GET /api/health
  GET /api/traces?service=&name=&minDurationMs=&error=&limit=
  GET /api/traces/{traceId}                 OTLP JSON
  GET /api/traces/{traceId}/critical-path
  GET /api/stats                            per-stage count, errors, p50/p95/p99
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

function numberOption(value: string | undefined, name: string, min: number) {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min) {
    throw new UsageError(`--${name} must be a number of at least ${min}, got "${value}"`);
  }
  return n;
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
      'max-body-mib': { type: 'string' },
      forward: { type: 'string' },
      'max-forward-mib': { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
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
  const maxBodyMib = numberOption(values['max-body-mib'], 'max-body-mib', 0.001);
  const statsWindow = numberOption(values['stats-window'], 'stats-window', 1);
  const idle = numberOption(values['exit-when-idle'], 'exit-when-idle', 0.1);
  const maxForwardMib = numberOption(values['max-forward-mib'], 'max-forward-mib', 1);
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
  const host = values.host ?? LOOPBACK;
  const server = await startServer({
    host,
    grpcPort: intOption(values['grpc-port'], 'grpc-port', 0, 65535),
    httpPort: intOption(values['http-port'], 'http-port', 0, 65535),
    strictPorts: values['strict-ports'],
    dataDir: values.data === undefined ? undefined : path.resolve(values.data),
    maxSpans: intOption(values['max-spans'], 'max-spans', 1, 100_000_000),
    maxBodyBytes: maxBodyMib === undefined ? undefined : Math.round(maxBodyMib * 1024 * 1024),
    forwardUrl: values.forward,
    forward:
      maxForwardMib === undefined
        ? undefined
        : { maxPendingBytes: Math.round(maxForwardMib * 1024 * 1024) },
    corsOrigins: values['cors-origin'],
    statsWindowMs: statsWindow === undefined ? undefined : statsWindow * 1000,
    version: VERSION,
    log,
  });
  const { endpoints, engine } = server;
  if (host !== LOOPBACK && host !== 'localhost' && host !== '::1') {
    log.warn(`listening on ${host}: the receiver and read API are reachable from other machines.`);
  }
  const replay = engine.replayReport;
  if (replay !== undefined) {
    log.info(
      `Replayed ${engine.store.spanCount} spans (${replay.records} batches) from ${values.data}`,
    );
  }
  console.log(`Stagelight ${VERSION} receiving OpenTelemetry traces
  OTLP/gRPC  ${endpoints.grpc}
  OTLP/HTTP  ${endpoints.httpTraces}
  Read API   ${endpoints.api}/traces
Point your exporter at it:
  OTEL_EXPORTER_OTLP_ENDPOINT=${endpoints.grpc}   (gRPC)
  OTEL_EXPORTER_OTLP_ENDPOINT=${endpoints.http}   (HTTP/protobuf or JSON)`);
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

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(idleTimer);
      log.info(reason);
      const c = engine.counters;
      log.info(
        `Received ${c.receivedSpans} spans (${c.acceptedSpans} accepted, ${c.rejectedSpans} rejected, ` +
          `${c.duplicateSpans} duplicates); holding ${engine.store.spanCount} spans in ` +
          `${engine.store.traceCount} traces.`,
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
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof DemoUsageError ||
      (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`stagelight: ${(e as Error).message}\nRun "stagelight --help" for usage.`);
      return 2;
    }
    if (e instanceof PortInUseError) {
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
