/**
 * Zero-code instrumentation is real: a plain Python program (urllib calls to a local HTTP
 * server, no OpenTelemetry import) gets the zero-code setup, then runs under the command line
 * and environment Run with Tracing computes (`runCommand` with `zeroCode`,
 * `zeroCodeTracingEnv`), with opentelemetry-distro and the urllib instrumentation from PyPI in
 * their own venv (test/interop/python/requirements-distro.txt). Its client spans must reach a
 * real Stagelight receiver, over gRPC and over HTTP, with the service name of the environment.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { addZeroCodeSetup, applyEdits, pythonRunsZeroCode } from '../../src/core/scaffold/index.js';
import { projectFiles } from '../../src/core/scaffold/project-root.js';
import { quoteArg } from '../../src/core/scaffold/python-interpreter.js';
import { runCommand, runCommandLine, zeroCodeTracingEnv } from '../../src/core/scaffold/run-env.js';
import type { OtlpProtocol } from '../../src/core/scaffold/types.js';
import type { KeyValueJson, SpanJson } from '../../src/core/model.js';
import type { ExportTraceServiceRequestJson } from '../../src/core/otlp/export.js';
import { getJson, startTestServer, waitFor } from './helpers/server.js';
import { pythonWithOtelDistro, runToEnd } from './helpers/sdk-toolchains.js';

/** A string attribute's value, if it is one. */
function str(attrs: readonly KeyValueJson[] | undefined, key: string): string | undefined {
  const v = attrs?.find((a) => a.key === key)?.value;
  return v !== undefined && 'stringValue' in v ? v.stringValue : undefined;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-zero-code-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const APP = `"""Asks a model server for its models: plain urllib, no tracing code."""
import sys
import urllib.request


def main(base):
    for path in ("/models", "/health"):
        with urllib.request.urlopen(base + path) as r:
            print(path, r.status, r.read().decode())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
`;

/** The venv's python, or why this machine cannot have one (the tests then skip). */
const tool = pythonWithOtelDistro();
const skip = tool.ok ? false : tool.reason;

describe('zero-code Python under Run with Tracing', { skip }, () => {
  let modelServer: http.Server;
  let base = '';
  const seen: string[] = [];
  before(async () => {
    modelServer = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((r) => modelServer.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(modelServer.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => modelServer.close(() => r())));

  for (const protocol of ['grpc', 'http'] as OtlpProtocol[]) {
    test(`the program's urllib spans arrive over OTLP/${protocol} with the service name`, async () => {
      const server = await startTestServer();
      const dir = mkdtempSync(path.join(tmp, `${protocol}-`));
      const file = path.join(dir, 'client.py');
      writeFileSync(path.join(dir, 'requirements.txt'), 'numpy\n');

      // Add Tracing Setup, zero-code: the marker in the file, the packages in requirements.txt.
      const setup = addZeroCodeSetup(
        { text: APP, language: 'python', fileName: file },
        projectFiles(dir),
      );
      assert.equal(setup.status, 'edited');
      const text = applyEdits(APP, setup.edits);
      writeFileSync(file, text);
      for (const m of setup.manifests) {
        const p = path.join(dir, m.file);
        writeFileSync(p, applyEdits(readFileSync(p, 'utf8'), m.edits));
      }
      assert.equal(
        readFileSync(path.join(dir, 'requirements.txt'), 'utf8'),
        'numpy\nopentelemetry-distro\nopentelemetry-exporter-otlp\n',
      );
      assert.doesNotMatch(text, /^\s*(import|from) opentelemetry/m, 'no tracing code');

      // Run with Tracing: what it starts, and with which variables.
      assert.equal(pythonRunsZeroCode(text, projectFiles(dir)), true);
      const cmd = runCommand(file, 'python', {
        python: tool.ok ? tool.path : '',
        projectRoot: dir,
        zeroCode: true,
      });
      const service = `zero-code-${protocol}`;
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
      Object.assign(env, zeroCodeTracingEnv(server.endpoints, protocol, service));
      // The line Run with Tracing types into the terminal, run by a POSIX shell.
      const line = `${runCommandLine(cmd, 'posix')} ${quoteArg(base, 'posix')}`;
      assert.match(line, /auto_instrumentation import run; run\(\)'/);
      const run = await runToEnd('sh', ['-c', line], { env, cwd: cmd.cwd, timeoutMs: 60_000 });
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, /\/models 200 ok/);
      assert.match(run.out, /\/health 200 ok/);
      assert.doesNotMatch(run.out, /Traceback|Failed to export|error/i, run.out);
      assert.deepEqual(seen.splice(0), ['/models', '/health'], 'the calls reached the server');

      const spans = await waitFor(
        async () => {
          const list = await getJson(`${server.endpoints.api}/traces?service=${service}`);
          const traces = (list.body as { traces: { traceId: string }[] }).traces;
          const out: { span: SpanJson; service: unknown; auto: unknown }[] = [];
          for (const t of traces) {
            const got = await getJson(`${server.endpoints.api}/traces/${t.traceId}`);
            for (const rs of (got.body as ExportTraceServiceRequestJson).resourceSpans) {
              const attr = (k: string) => str(rs.resource?.attributes, k);
              for (const ss of rs.scopeSpans)
                for (const span of ss.spans)
                  out.push({
                    span,
                    service: attr('service.name'),
                    auto: attr('telemetry.auto.version'),
                  });
            }
          }
          return out.length >= 2 ? out : undefined;
        },
        20_000,
        `2 spans of ${service}`,
      );
      assert.equal(spans.length, 2);
      for (const s of spans) {
        assert.equal(s.service, service);
        assert.equal(s.auto, '0.66b1', 'sent by the zero-code instrumentation');
        assert.equal(s.span.name, 'GET');
        assert.equal(s.span.kind, 3, 'a client span');
      }
      const urls = spans.map((s) => str(s.span.attributes, 'http.url')).sort();
      assert.deepEqual(urls, [`${base}/health`, `${base}/models`]);
    });
  }
});
