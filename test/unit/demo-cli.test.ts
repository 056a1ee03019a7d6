/**
 * `stagelight demo` as a user runs it (the built dist/cli.js): the table and the device
 * fail-over report, usage errors, a worker that cannot start (exit 1 with its stderr), and
 * Ctrl-C stopping the demo and every process it started.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from './helpers/server.js';
import type { RunningServer } from '../../src/core/server.js';
import { runDemo, DemoError } from '../../demo/run-demo.js';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

let server: RunningServer;
let tmp: string;

before(async () => {
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'inherit' });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-demo-cli-'));
  server = await startTestServer({}, false);
});

after(async () => {
  await server?.close();
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STAGELIGHT_CACHE_DIR: path.join(tmp, 'models') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** Processes whose command line mentions `needle` (the demo's workers carry the cache dir). */
function processesWith(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

describe('stagelight demo (CLI)', { timeout: 150_000 }, () => {
  test('prints the per-stage table, the devices and why the GPUs were not used', async () => {
    const r = await cli([
      '--requests',
      '3',
      '--model-scale',
      '0.05',
      '--device',
      'generation=cuda,reranking=webgpu,embedding=cpu',
      '--endpoint',
      server.endpoints.grpc,
      '--api',
      server.endpoints.api,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /generation: cpu \(cuda: /);
    assert.match(r.stdout, /reranking: cpu \(webgpu: /);
    assert.match(r.stdout, /3 requests \(3 ok, 0 failed\)/);
    assert.match(r.stdout, /stage\s+n\s+p50\s+p95\s+critical path\s+errors\s+device/);
    assert.match(r.stdout, /demo-gateway\s+reranking\s+3\s/);
    assert.match(r.stdout, new RegExp(`Traces: ${server.endpoints.api}/traces`));
  });

  test('usage errors exit 2', async () => {
    const r = await cli(['--scenario', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown scenario "nope"/);
    const d = await cli(['--device', 'tpu']);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /unknown device "tpu"/);
  });

  test('a worker that cannot start fails the demo with its stderr, and nothing is left running', async () => {
    const bundles = path.join(tmp, 'broken');
    mkdirSync(bundles, { recursive: true });
    writeFileSync(
      path.join(bundles, 'model-runner.js'),
      'console.error("no model for you"); process.exit(3);\n',
    );
    writeFileSync(
      path.join(bundles, 'retrieval-worker.js'),
      'process.send({ type: "ready" }); process.on("message", () => process.exit(0));\n',
    );
    await assert.rejects(
      runDemo({
        requests: 1,
        modelScale: 0.05,
        cacheDir: path.join(tmp, 'models'),
        bundleDir: bundles,
        endpoint: server.endpoints.grpc,
      }),
      (e: Error) =>
        e instanceof DemoError &&
        /failed to start/.test(e.message) &&
        /no model for you/.test(e.message),
    );
    assert.deepEqual(processesWith(bundles), []);
  });

  test('--endpoint naming the HTTP port of a Stagelight receiver exports to its gRPC port', async () => {
    // Workers that exit at once: the receiver is chosen before they start, and nothing runs long.
    const bundles = path.join(tmp, 'broken-endpoint');
    mkdirSync(bundles, { recursive: true });
    writeFileSync(path.join(bundles, 'model-runner.js'), 'process.exit(3);\n');
    writeFileSync(path.join(bundles, 'retrieval-worker.js'), 'process.exit(3);\n');
    const lines: string[] = [];
    await assert.rejects(
      runDemo({
        requests: 1,
        modelScale: 0.05,
        cacheDir: path.join(tmp, 'models'),
        bundleDir: bundles,
        endpoint: server.endpoints.http,
        log: (line) => lines.push(line),
      }),
      DemoError,
    );
    assert.ok(
      lines.some((l) =>
        l.includes(
          `${server.endpoints.http} is the OTLP/HTTP port of a Stagelight receiver; exporting ` +
            `to its OTLP/gRPC endpoint ${server.endpoints.grpc}`,
        ),
      ),
      lines.join('\n'),
    );
    assert.deepEqual(processesWith(bundles), []);
  });

  test('Ctrl-C stops the load and every process, and still prints what was measured', async () => {
    let sent = false;
    const r = await cli(
      [
        '--duration',
        '60',
        '--model-scale',
        '0.05',
        '--endpoint',
        server.endpoints.grpc,
        '--api',
        server.endpoints.api,
      ],
      (out, child) => {
        if (!sent && out.includes('Sending')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      },
    );
    assert.ok(sent);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stdout, /stopped early/);
    assert.deepEqual(processesWith(path.join(tmp, 'models')), []);
  });
});
