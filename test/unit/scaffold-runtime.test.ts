/**
 * The generated TS/JS is real: an uninstrumented program gets Add Tracing Setup, Trace This
 * Function, Wrap Selection in Span and Add Stage Attributes, then runs as its own process with
 * the OpenTelemetry JS SDK against a real Stagelight receiver. The spans must arrive with the
 * right names, parents, attributes, resource and error status (exception event included).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addStageAttributes,
  addTracingSetup,
  traceFunction,
  wrapSelectionInSpan,
  type ScaffoldDocument,
} from '../../src/core/scaffold/index.js';
import { getJson, startTestServer, waitFor } from './helpers/server.js';
import { pythonWithOtel, runToEnd } from './helpers/sdk-toolchains.js';
import { apply, at, attrs, programEnv, spansOf, tsTypeErrors } from './helpers/scaffold-run.js';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TS_APP = `import { setTimeout as sleep } from 'node:timers/promises';

export class Reranker {
  async rerank(docs: string[]): Promise<string[]> {
    await sleep(2);
    return this.order(docs);
  }

  order(docs: string[]): string[] {
    const sorted = [...docs];
    sorted.sort();
    return sorted;
  }
}

export function fail(reason: string): number {
  throw new Error(reason);
}

export const double = (x: number) => x * 2;

async function main(): Promise<void> {
  const r = new Reranker();
  const out = await r.rerank(['b', 'a']);
  console.log(out.join(','));
  try {
    fail('boom');
  } catch {
    // expected: the span records it
  }
  console.log(double(21));
}

void main();
`;

const JS_APP = `'use strict';
const { setTimeout: sleep } = require('node:timers/promises');

async function embed(texts) {
  await sleep(1);
  const lengths = texts.map((t) => t.length);
  console.log(lengths.join(','));
  return lengths;
}

embed(['ab', 'c']);
`;

/** Runs a program, with its output and exit code; killed after 20 s. */
function runProgram(cmd: string, args: string[], extraEnv: Record<string, string>) {
  return runToEnd(cmd, args, { env: programEnv(extraEnv), cwd: ROOT, timeoutMs: 20_000 });
}

/** Runs a file with Node (tsx for TS) so that its imports resolve from this repository. */
function runNode(file: string, env: Record<string, string> = {}) {
  return runProgram(process.execPath, ['--import', 'tsx', file], {
    NODE_PATH: path.join(ROOT, 'node_modules'),
    ...env,
  });
}

/**
 * A Python with the OpenTelemetry SDK and both OTLP exporters: `STAGELIGHT_TEST_PYTHON`, else
 * the virtual environment helpers/sdk-toolchains.ts installs under .cache; the reason when this
 * machine has no Python (the Python cases then skip).
 */
function otelPython(): { python?: string; reason?: string } {
  const env = process.env.STAGELIGHT_TEST_PYTHON;
  if (env !== undefined) return { python: env };
  const tool = pythonWithOtel();
  return tool.ok ? { python: tool.path } : { reason: tool.reason };
}

test('generated TypeScript sends the right spans over OTLP/HTTP', async () => {
  const server = await startTestServer();
  let doc: ScaffoldDocument = {
    text: TS_APP,
    language: 'typescript',
    fileName: path.join(tmp, 'app.ts'),
  };
  doc = apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      {
        serviceName: 'scaffold-ts',
        endpoint: server.endpoints.http,
        protocol: 'http',
      },
    ),
  );
  for (const m of ['await sleep(2)', 'const sorted', 'throw new Error', 'x * 2']) {
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));
  }
  doc = apply(
    doc,
    await wrapSelectionInSpan(doc, at(doc.text, 'sorted.sort()'), { spanName: 'sort docs' }),
  );
  doc = apply(
    doc,
    await addStageAttributes(doc, at(doc.text, 'await sleep(2)'), {
      keys: ['model.name', 'batch_size', 'cache.hit'],
      values: { 'model.name': "'mini-ranker'", batch_size: 'docs.length', 'cache.hit': 'false' },
    }),
  );
  writeFileSync(doc.fileName!, doc.text);
  const run = await runNode(doc.fileName!);
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /a,b\n42/);

  const spans = await spansOf(server.endpoints.api, 'scaffold-ts', 5);
  const by = (name: string) => {
    const s = spans.find((x) => x.span.name === name);
    assert.ok(s, `span ${name} arrived (got ${spans.map((x) => x.span.name).join(', ')})`);
    return s.span;
  };
  const rerank = by('Reranker.rerank');
  const order = by('Reranker.order');
  const sort = by('sort docs');
  const fail = by('fail');
  const double = by('double');
  assert.equal(spans[0]!.resource['service.name'], 'scaffold-ts');
  assert.equal(rerank.parentSpanId ?? '', '');
  assert.equal(order.parentSpanId, rerank.spanId, 'order is a child of rerank');
  assert.equal(order.traceId, rerank.traceId);
  assert.equal(sort.parentSpanId, order.spanId, 'the wrapped selection is a child of order');
  // The async span ends after the awaited work, not when the promise is created.
  // (sleep(2) inside: a span ended when the promise was created would last microseconds)
  assert.ok(BigInt(rerank.endTimeUnixNano) - BigInt(rerank.startTimeUnixNano) >= 1_500_000n);
  assert.deepEqual(attrs(rerank.attributes), {
    'model.name': 'mini-ranker',
    batch_size: 2,
    'cache.hit': false,
  });
  assert.equal(fail.status.code, 2, 'error status');
  assert.equal(fail.status.message, 'Error: boom');
  const ex = fail.events.find((e) => e.name === 'exception');
  assert.ok(ex, 'exception event recorded');
  assert.equal(attrs(ex.attributes)['exception.message'], 'boom');
  assert.equal(double.status.code ?? 0, 0);
  assert.equal(rerank.status.code ?? 0, 0);
});

const TS_LOGS_APP = `import { logs, SeverityNumber } from '@opentelemetry/api-logs';

export async function rerank(docs: string[]): Promise<string[]> {
  logs.getLogger('app').emit({ severityNumber: SeverityNumber.INFO, body: \`reranking \${docs.length} docs\` });
  return [...docs].sort();
}

void rerank(['b', 'a']).then((r) => console.log(r.join(',')));
`;

test('generated TypeScript with the logs pipeline: a record emitted inside a span arrives with it', async () => {
  const server = await startTestServer();
  let doc: ScaffoldDocument = {
    text: TS_LOGS_APP,
    language: 'typescript',
    fileName: path.join(tmp, 'logs-app.ts'),
  };
  doc = apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      {
        serviceName: 'scaffold-ts-logs',
        endpoint: server.endpoints.grpc,
        protocol: 'grpc',
        logs: true,
      },
    ),
  );
  doc = apply(doc, await traceFunction(doc, at(doc.text, 'severityNumber: SeverityNumber.INFO')));
  // The file's own import of `logs` is kept, not declared twice.
  assert.deepEqual(tsTypeErrors(doc.text, path.join(ROOT, 'test', 'unit', '__logs_app__.ts')), []);
  writeFileSync(doc.fileName!, doc.text);
  const run = await runNode(doc.fileName!);
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${doc.text}`);
  const [rerank] = await spansOf(server.endpoints.api, 'scaffold-ts-logs', 1);
  assert.equal(rerank!.span.name, 'rerank');
  const got = await waitFor(async () => {
    const r = await getJson(`${server.endpoints.api}/traces/${rerank!.span.traceId}/logs`);
    const l = (r.body as { logs: { body: unknown; spanId: string; service: string }[] }).logs;
    return l.length > 0 ? l : undefined;
  });
  assert.deepEqual(
    got.map((l) => [l.body, l.spanId, l.service]),
    [[{ stringValue: 'reranking 2 docs' }, rerank!.span.spanId, 'scaffold-ts-logs']],
  );
});

test('generated CommonJS JavaScript sends its span over OTLP/gRPC', async () => {
  const server = await startTestServer();
  let doc: ScaffoldDocument = {
    text: JS_APP,
    language: 'javascript',
    fileName: path.join(tmp, 'worker.cjs'),
  };
  doc = apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      {
        serviceName: 'scaffold-js',
        endpoint: server.endpoints.grpc,
        protocol: 'grpc',
      },
    ),
  );
  doc = apply(doc, await traceFunction(doc, at(doc.text, 'await sleep(1)')));
  doc = apply(
    doc,
    await addStageAttributes(doc, at(doc.text, 'console.log'), {
      keys: ['input.size'],
      values: { 'input.size': 'texts.length' },
    }),
  );
  writeFileSync(doc.fileName!, doc.text);
  const run = await runNode(doc.fileName!);
  assert.equal(run.code, 0, run.out);
  const [embed] = await spansOf(server.endpoints.api, 'scaffold-js', 1);
  assert.equal(embed!.span.name, 'embed');
  assert.deepEqual(attrs(embed!.span.attributes), { 'input.size': 2 });
  assert.equal(embed!.resource['service.name'], 'scaffold-js');
});

test('OTEL_EXPORTER_OTLP_ENDPOINT redirects a generated TypeScript setup to another port', async () => {
  // The setup was written while the receiver listened on `written`; the next session's receiver
  // is on another port, which Run with Tracing passes in the variable.
  const written = await startTestServer();
  const current = await startTestServer();
  let doc: ScaffoldDocument = {
    text: JS_APP.replace("'use strict';\n", ''),
    language: 'typescript',
    fileName: path.join(tmp, 'moved.ts'),
  };
  doc = apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      { serviceName: 'scaffold-moved', endpoint: written.endpoints.http, protocol: 'http' },
    ),
  );
  doc = apply(doc, await traceFunction(doc, at(doc.text, 'await sleep(1)')));
  writeFileSync(doc.fileName!, doc.text);
  const run = await runNode(doc.fileName!, { OTEL_EXPORTER_OTLP_ENDPOINT: current.endpoints.http });
  assert.equal(run.code, 0, run.out);
  const [embed] = await spansOf(current.endpoints.api, 'scaffold-moved', 1);
  assert.equal(embed!.span.name, 'embed');
  const old = await getJson(`${written.endpoints.api}/traces`);
  assert.deepEqual((old.body as { traces: unknown[] }).traces, [], 'nothing at the written port');
});

const PY_APP = `import time


def embed(texts):
    time.sleep(0.001)
    return [len(t) for t in texts]


print(embed(["ab", "c"]))
`;

for (const protocol of ['grpc', 'http'] as const) {
  test(`generated Python (OTLP/${protocol}) follows OTEL_EXPORTER_OTLP_ENDPOINT, else the written port`, async (t) => {
    const { python, reason } = otelPython();
    if (python === undefined) {
      t.skip(reason);
      return;
    }
    const written = await startTestServer();
    const current = await startTestServer();
    let doc: ScaffoldDocument = {
      text: PY_APP,
      language: 'python',
      fileName: path.join(tmp, `embed_${protocol}.py`),
    };
    doc = apply(
      doc,
      await addTracingSetup(
        doc,
        { files: [], read: () => undefined },
        { serviceName: `scaffold-py-${protocol}`, endpoint: written.endpoints[protocol], protocol },
      ),
    );
    doc = apply(doc, await traceFunction(doc, at(doc.text, 'time.sleep')));
    writeFileSync(doc.fileName!, doc.text);
    const service = `scaffold-py-${protocol}`;
    // Without the variable: the port written into the setup.
    const plain = await runProgram(python, [doc.fileName!], {});
    assert.equal(plain.code, 0, plain.out);
    const [first] = await spansOf(written.endpoints.api, service, 1);
    assert.equal(first!.span.name, 'embed');
    // With it: the receiver it names.
    const moved = await runProgram(python, [doc.fileName!], {
      OTEL_EXPORTER_OTLP_ENDPOINT: current.endpoints[protocol],
    });
    assert.equal(moved.code, 0, moved.out);
    const [second] = await spansOf(current.endpoints.api, service, 1);
    assert.equal(second!.span.name, 'embed');
    assert.equal(second!.resource['service.name'], service);
  });
}
