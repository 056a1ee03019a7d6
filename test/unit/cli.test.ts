/**
 * The built `stagelight` CLI (dist/cli.js) as a user runs it: help and version, usage errors
 * (exit 2), `serve` printing its endpoints and receiving a span from the official gRPC exporter,
 * `--exit-when-idle`, taken ports (next free one, or exit 3 with `--strict-ports`, without
 * grpc-js's own log lines), addresses it cannot listen on (one line, exit 3), the access token
 * and clean shutdown on SIGINT/SIGTERM.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { getJson, waitFor } from './helpers/server.js';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running CLI process with its output collected as it arrives. */
interface Cli {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
}

const running = new Set<ChildProcess>();

after(() => {
  // Whatever a failed test left behind.
  for (const child of running) child.kill('SIGKILL');
});

function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const { STAGELIGHT_TOKEN: _inherited, ...parentEnv } = process.env;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...parentEnv, NO_COLOR: '1', ...env },
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Runs the CLI to completion (it must exit within `timeoutMs`). */
async function runCli(args: string[], timeoutMs = 10_000, env: Record<string, string> = {}) {
  const cli = startCli(args, env);
  const exit = await withTimeout(cli.exited, timeoutMs, `stagelight ${args.join(' ')} to exit`);
  return { ...exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface PrintedEndpoints {
  grpc: string;
  http: string;
}

/** Waits for `serve` to print both `OTEL_EXPORTER_OTLP_ENDPOINT=` lines and parses them. */
async function endpointsOf(cli: Cli): Promise<PrintedEndpoints> {
  const grpcLine = /OTEL_EXPORTER_OTLP_ENDPOINT=(http:\/\/\S+)\s+\(gRPC\)/;
  const httpLine = /OTEL_EXPORTER_OTLP_ENDPOINT=(http:\/\/\S+)\s+\(HTTP/;
  let exitedEarly: Exit | undefined;
  void cli.exited.then((e) => (exitedEarly = e));
  return waitFor(
    () => {
      if (exitedEarly !== undefined) {
        throw new Error(
          `stagelight exited (${exitedEarly.code ?? exitedEarly.signal}) before printing its ` +
            `endpoints:\n${cli.stdout()}\n${cli.stderr()}`,
        );
      }
      const g = grpcLine.exec(cli.stdout());
      const h = httpLine.exec(cli.stdout());
      return g && h ? { grpc: g[1]!, http: h[1]! } : undefined;
    },
    10_000,
    'the endpoints on stdout',
  );
}

/** Stops a CLI that a test started, by signal, and returns how it exited. */
async function stop(cli: Cli, signal: NodeJS.Signals): Promise<Exit> {
  cli.child.kill(signal);
  return withTimeout(cli.exited, 10_000, `stagelight to stop on ${signal}`);
}

/** Sends one span with the official OTLP/gRPC exporter; returns its trace id. */
async function sendSpanOverGrpc(grpcUrl: string, service: string): Promise<string> {
  const exporter = new GrpcExporter({ url: grpcUrl });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  try {
    const span = provider.getTracer('cli-test').startSpan('preprocess', {
      attributes: { 'batch.size': 8 },
    });
    const traceId = span.spanContext().traceId;
    span.end();
    await provider.forceFlush();
    return traceId;
  } finally {
    await provider.shutdown();
  }
}

/** Listens on a free loopback port so that nobody else can; close it in `finally`. */
async function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The option names `serve` passes to parseArgs, read from the source so none can be forgotten. */
function serveOptionNames(): string[] {
  const src = readFileSync(path.join(ROOT, 'src', 'cli', 'main.ts'), 'utf8');
  const block = /parseArgs\(\{[\s\S]*?options:\s*\{([\s\S]*?)\n\s*\},\s*\n\s*\}\);/.exec(src);
  assert.ok(block, 'could not find the parseArgs options block in src/cli/main.ts');
  return [...block[1]!.matchAll(/^\s*'?([a-z][a-z0-9-]*)'?\s*:\s*\{\s*type:/gm)].map((m) => m[1]!);
}

/** The routes the read API's header comment lists (src/core/api/read-api.ts). */
function readApiRoutes(): string[] {
  return ['read-api.ts', 'signal-routes.ts'].flatMap((file) => {
    const src = readFileSync(path.join(ROOT, 'src', 'core', 'api', file), 'utf8');
    const header = src.slice(0, src.indexOf('*/'));
    return [...header.matchAll(/GET (\/api\/\S+)/g)].map((m) => m[1]!);
  });
}

before(() => {
  // Always rebuild: a stale bundle would test yesterday's CLI.
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'pipe' });
});

describe('stagelight help, version and usage errors', () => {
  test('--help exits 0 and documents every option serve parses', async () => {
    const names = serveOptionNames();
    assert.ok(names.length >= 10, `expected the serve options, found ${names.join(', ')}`);
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /stagelight serve/);
    for (const name of names) assert.ok(stdout.includes(`--${name}`), `--help lacks --${name}`);
    const routes = readApiRoutes();
    assert.ok(routes.length >= 8, `expected the read API routes, found ${routes.join(', ')}`);
    for (const route of routes) assert.ok(stdout.includes(`GET ${route}`), `--help lacks ${route}`);
    assert.match(stdout, /--endpoint <url>\s+OTLP\/gRPC endpoint to export to/);
    const serveHelp = await runCli(['serve', '--help']);
    assert.equal(serveHelp.code, 0);
    assert.equal(serveHelp.stdout, stdout);
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const { code, stdout } = await runCli(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), pkg.version);
  });

  test('an unknown command exits 2 naming it', async () => {
    const { code, stderr } = await runCli(['frobnicate']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown command "frobnicate"/);
    assert.match(stderr, /--help/);
  });

  test('an unknown flag exits 2 naming it', async () => {
    const { code, stderr } = await runCli(['serve', '--frobnicate']);
    assert.equal(code, 2);
    assert.match(stderr, /--frobnicate/);
  });

  const badValues: Array<[string[], RegExp]> = [
    [['--grpc-port', '70000'], /--grpc-port must be an integer from 0 to 65535, got "70000"/],
    [['--http-port=-1'], /--http-port must be an integer from 0 to 65535, got "-1"/],
    [['--grpc-port', '4317.5'], /--grpc-port must be an integer from 0 to 65535, got "4317.5"/],
    [['--max-spans', 'abc'], /--max-spans must be an integer .*got "abc"/],
    [['--max-memory-mib', '8'], /--max-memory-mib must be a number from 16 to 1048576, got "8"/],
    [['--max-memory-mib', 'lots'], /--max-memory-mib must be a number from 16 to 1048576/],
    [['--forward', 'ftp://x'], /--forward needs an http\(s\) URL, got "ftp:\/\/x"/],
    [['--exit-when-idle', 'soon'], /--exit-when-idle must be a number/],
    [['--host', '999.1.1.1'], /--host must be an IP address or a host name, got "999\.1\.1\.1"/],
    [['--host', '::zz'], /--host must be an IP address or a host name, got "::zz"/],
    [['--max-body-mib', '2000'], /--max-body-mib must be a number from 0\.001 to 1024, got "2000"/],
    [['--allow-host', 'box.lan:4318'], /--allow-host needs a host name without a port/],
    [['--allow-host', 'http://box.lan'], /--allow-host needs a host name without a port/],
    [['--token='], /--token must be printable ASCII without spaces, and not empty/],
    [['--token', 'two words'], /--token must be printable ASCII without spaces/],
    [['--max-forward-mib', '64'], /--max-forward-mib only applies with --forward <url>/],
    [
      ['--forward', 'http://127.0.0.1:9', '--max-forward-mib', '0'],
      /--max-forward-mib must be a number of at least 1, got "0"/,
    ],
  ];
  for (const [args, message] of badValues) {
    test(`serve ${args.join(' ')} exits 2 with a clear message`, async () => {
      const { code, stdout, stderr } = await runCli(['serve', ...args]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      // A usage error must not have started anything.
      assert.doesNotMatch(stdout, /OTEL_EXPORTER_OTLP_ENDPOINT/);
    });
  }

  test('serve --forward "not a url" names the flag and the value', async () => {
    const { code, stderr } = await runCli(['serve', '--forward', 'not a url']);
    assert.equal(code, 2);
    assert.match(stderr, /--forward .*"not a url"/);
  });

  test('serve --grpc-port with an empty value exits 2', async () => {
    const cli = startCli(['serve', '--grpc-port=', '--http-port', '0']);
    try {
      const exit = await withTimeout(cli.exited, 2000, 'a usage error');
      assert.equal(exit.code, 2);
      assert.match(cli.stderr(), /--grpc-port must be an integer/);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('serve --data naming a file exits with a one-line message, not a stack trace', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stagelight-cli-'));
    try {
      const file = path.join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      const { code, stderr } = await runCli(['serve', '--data', file, '--grpc-port', '0']);
      assert.notEqual(code, 0);
      assert.match(stderr, /cannot prepare span log/);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stagelight serve', () => {
  test('prints its endpoints, receives a span from the gRPC exporter, stops on SIGINT', async () => {
    const cli = startCli(['serve', '--grpc-port', '0', '--http-port', '0']);
    try {
      const ep = await endpointsOf(cli);
      assert.match(cli.stdout(), /OTLP\/gRPC\s+http:\/\/127\.0\.0\.1:\d+/);
      assert.match(cli.stdout(), /Read API\s+http:\/\/127\.0\.0\.1:\d+\/api\/traces/);
      const traceId = await sendSpanOverGrpc(ep.grpc, 'cli-test-grpc');
      const summary = await waitFor(
        async () => {
          const { body } = await getJson(`${ep.http}/api/traces?service=cli-test-grpc`);
          const list = (body as { traces: Array<{ traceId: string; rootName: string }> }).traces;
          return list.find((t) => t.traceId === traceId);
        },
        5000,
        'the span in /api/traces',
      );
      assert.equal(summary.rootName, 'preprocess');
      const exit = await stop(cli, 'SIGINT');
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      assert.match(cli.stdout(), /Stopping \(SIGINT\)/);
      assert.match(cli.stdout(), /Received 1 span \(1 accepted, 0 rejected, 0 duplicates\)/);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('SIGTERM stops it cleanly with exit code 0', async () => {
    const cli = startCli(['serve', '--grpc-port', '0', '--http-port', '0']);
    try {
      const ep = await endpointsOf(cli);
      assert.equal((await getJson(`${ep.http}/api/health`)).status, 200);
      const exit = await stop(cli, 'SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      assert.match(cli.stdout(), /Stopping \(SIGTERM\)/);
      assert.equal(cli.stderr(), '');
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('--max-memory-mib: /api/health reports the bytes held, part by part, against it', async () => {
    const cli = startCli([
      'serve',
      '--grpc-port',
      '0',
      '--http-port',
      '0',
      '--max-memory-mib',
      '64',
    ]);
    try {
      const ep = await endpointsOf(cli);
      await sendSpanOverGrpc(ep.grpc, 'cli-test-memory');
      const health = (await getJson(`${ep.http}/api/health`)).body as {
        spans: number;
        memory: Record<string, number>;
      };
      assert.equal(health.spans, 1);
      const m = health.memory;
      assert.equal(m.budget, 64 * 1024 * 1024);
      assert.deepEqual(Object.keys(m).sort(), [
        'analysis',
        'budget',
        'forward',
        'indexes',
        'logs',
        'metrics',
        'spans',
        'stats',
        'total',
      ]);
      assert.ok(m.spans! > 0 && m.indexes! > 0, JSON.stringify(m));
      assert.equal(
        m.total,
        m.spans! + m.indexes! + m.analysis! + m.stats! + m.forward! + m.logs! + m.metrics!,
      );
      // The background analysis reports its progress: the trace is analysed once it settled
      // (a second after its span), which a benchmark waits for before reading the CPU used.
      const analysed = async () =>
        ((await getJson(`${ep.http}/api/health`)).body as { analysis: Record<string, number> })
          .analysis;
      const deadline = Date.now() + 15_000;
      let a = await analysed();
      while (a.analysed! < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        a = await analysed();
      }
      assert.deepEqual(Object.keys(a).sort(), [
        'analysed',
        'analysedAtReport',
        'failed',
        'reports',
        'skippedLarge',
      ]);
      assert.equal(a.analysed, 1, JSON.stringify(a));
      assert.deepEqual(await stop(cli, 'SIGTERM'), { code: 0, signal: null });
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('--exit-when-idle 1 exits 0 by itself after the span, with a summary', async () => {
    const cli = startCli([
      'serve',
      '--grpc-port',
      '0',
      '--http-port',
      '0',
      '--exit-when-idle',
      '1',
    ]);
    try {
      const ep = await endpointsOf(cli);
      await sendSpanOverGrpc(ep.grpc, 'cli-test-idle');
      const exit = await withTimeout(cli.exited, 10_000, 'the idle exit');
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      assert.match(cli.stdout(), /No spans for 1 s; exiting\./);
      assert.match(cli.stdout(), /Received 1 span \(1 accepted.*holding 1 span in 1 trace\./);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('a taken HTTP port: says so and uses the next free one', async () => {
    const taken = await occupyPort();
    const cli = startCli(['serve', '--grpc-port', '0', '--http-port', String(taken.port)]);
    try {
      const ep = await endpointsOf(cli);
      const port = Number(new URL(ep.http).port);
      assert.notEqual(port, taken.port);
      assert.ok(port > taken.port && port <= taken.port + 20, `fell back to ${port}`);
      assert.match(cli.stderr(), new RegExp(`port ${taken.port} is in use; using ${port}`));
      assert.equal((await getJson(`${ep.http}/api/health`)).status, 200);
      assert.deepEqual(await stop(cli, 'SIGTERM'), { code: 0, signal: null });
    } finally {
      cli.child.kill('SIGKILL');
      await taken.close();
    }
  });

  test('a taken HTTP port with --strict-ports exits 3 naming the port', async () => {
    const taken = await occupyPort();
    try {
      const { code, stdout, stderr } = await runCli([
        'serve',
        '--grpc-port',
        '0',
        '--http-port',
        String(taken.port),
        '--strict-ports',
      ]);
      assert.equal(code, 3, stderr);
      assert.match(stderr, new RegExp(`port ${taken.port} is already in use`));
      assert.doesNotMatch(stdout, /OTEL_EXPORTER_OTLP_ENDPOINT/);
    } finally {
      await taken.close();
    }
  });
  test("a taken gRPC port: one line, none of grpc-js's own log lines", async () => {
    const taken = await occupyPort();
    try {
      const strict = await runCli([
        'serve',
        '--grpc-port',
        String(taken.port),
        '--http-port',
        '0',
        '--strict-ports',
      ]);
      assert.equal(strict.code, 3, strict.stderr);
      assert.equal(
        strict.stderr,
        `stagelight: OTLP/gRPC port ${taken.port} is already in use (another Stagelight or ` +
          'OpenTelemetry collector?). Stop that process, or choose another port (0 = any free port).\n',
      );
      const cli = startCli(['serve', '--grpc-port', String(taken.port), '--http-port', '0']);
      try {
        await endpointsOf(cli);
        assert.match(cli.stderr(), new RegExp(`OTLP/gRPC port ${taken.port} is in use; using`));
        assert.doesNotMatch(cli.stderr(), /No address added/);
        assert.deepEqual(await stop(cli, 'SIGTERM'), { code: 0, signal: null });
      } finally {
        cli.child.kill('SIGKILL');
      }
    } finally {
      await taken.close();
    }
  });

  test('--host with an address of another machine: one line, exit 3', async () => {
    const { code, stdout, stderr } = await runCli(['serve', '--host', '192.0.2.1']);
    assert.equal(code, 3, stderr);
    assert.match(
      stderr,
      /^stagelight: OTLP\/gRPC: cannot listen on 192\.0\.2\.1: it is not an address of this machine/,
    );
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.doesNotMatch(stdout, /OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  test('--host 0.0.0.0: a generated token is printed, and the read API requires it', async () => {
    const cli = startCli(['serve', '--host', '0.0.0.0', '--grpc-port', '0', '--http-port', '0']);
    try {
      const ep = await endpointsOf(cli);
      const token = await waitFor(
        () => /Access token: (\S+)/.exec(cli.stdout())?.[1],
        5000,
        'the token on stdout',
      );
      assert.match(cli.stdout(), /The read API requires the access token/);
      assert.match(cli.stderr(), /reachable from other machines/);
      assert.equal((await fetch(`${ep.http}/api/health`)).status, 401);
      const ok = await fetch(`${ep.http}/api/health`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ok.status, 200);
      // Ingest does not need it unless --token-ingest.
      await sendSpanOverGrpc(ep.grpc, 'cli-test-token');
      assert.deepEqual(await stop(cli, 'SIGTERM'), { code: 0, signal: null });
      assert.match(cli.stdout(), /Received 1 span \(1 accepted/);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  test('STAGELIGHT_TOKEN on loopback guards the read API and is not printed', async () => {
    const secret = 'env-token-0123456789';
    const cli = startCli(['serve', '--grpc-port', '0', '--http-port', '0'], {
      STAGELIGHT_TOKEN: secret,
    });
    try {
      const ep = await endpointsOf(cli);
      await waitFor(() =>
        /The read API requires the access token/.test(cli.stdout()) ? true : undefined,
      );
      assert.ok(!cli.stdout().includes(secret), 'a token the user gave is not echoed');
      assert.equal((await fetch(`${ep.http}/api/traces`)).status, 401);
      const ok = await fetch(`${ep.http}/api/traces`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(ok.status, 200);
      assert.deepEqual(await stop(cli, 'SIGTERM'), { code: 0, signal: null });
    } finally {
      cli.child.kill('SIGKILL');
    }
  });
  test('--token-ingest: says how exporters send the token; ingest without it is refused', async () => {
    const cli = startCli([
      'serve',
      '--grpc-port',
      '0',
      '--http-port',
      '0',
      '--token',
      'ingest-0123456789',
      '--token-ingest',
    ]);
    try {
      const ep = await endpointsOf(cli);
      await waitFor(() => (/OTEL_EXPORTER_OTLP_HEADERS=/.test(cli.stdout()) ? true : undefined));
      assert.match(cli.stdout(), /The read API and OTLP ingest require the access token/);
      assert.match(cli.stdout(), /OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>/);
      const post = (headers: Record<string, string>) =>
        fetch(`${ep.http}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{"resourceSpans":[]}',
        });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ authorization: 'Bearer ingest-0123456789' })).status, 200);
      assert.deepEqual(await stop(cli, 'SIGTERM'), { code: 0, signal: null });
    } finally {
      cli.child.kill('SIGKILL');
    }
  });
});
