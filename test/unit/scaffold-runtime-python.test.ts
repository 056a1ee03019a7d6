/**
 * The generated Python is real: an uninstrumented program gets Add Tracing Setup, Trace This
 * Function (decorator and `with` styles), Wrap Selection in Span, Add Stage Attributes and every
 * Propagate Context snippet, then runs as its own process with the OpenTelemetry Python SDK
 * (.cache/py-otel) against a real Stagelight receiver. What arrives through the read API must
 * have the right names, parents, attributes, error status and resource; on each propagation
 * boundary the extracting side's span is a child of the injecting side's span.
 *
 * The boundaries: gRPC over a real grpcio server and channel on loopback, HTTP with `requests`
 * to an `http.server` on loopback, an `asyncio.Queue`; Kafka messages and Ray remote calls are
 * carried in process (a list of messages with confluent-kafka's `headers()`/`topic()` shape, a
 * `ray` stand-in that runs the task where it is called), since neither library is installed.
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
import {
  apply,
  assertChild,
  assertFailed,
  assertRoot,
  at,
  attrs,
  programEnv,
  propagate,
  spanNamed,
  spansOf,
} from './helpers/scaffold-run.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-py-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const APP = `import asyncio
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import grpc
import requests

# Stands in for Ray: a remote function runs where it is called.
ray = SimpleNamespace(remote=lambda fn: SimpleNamespace(remote=fn))


class Reranker:
    def __init__(self, model_name):
        self.model_name = model_name

    def rerank(self, docs):
        ranked = self.order(docs)
        return ranked

    def order(self, docs):
        ranked = list(docs)
        ranked.sort()
        return ranked


def fail(reason):
    raise ValueError(reason)


class Message:
    """A Kafka message as confluent-kafka hands it over: headers as (key, bytes) pairs."""

    def __init__(self, topic, value, headers):
        self._topic = topic
        self.value = value
        self._headers = headers

    def topic(self):
        return self._topic

    def headers(self):
        return self._headers


class Producer:
    """Keeps produced messages in memory in place of a broker."""

    def __init__(self):
        self.sent = []

    def produce(self, topic, value=None, headers=None):
        self.sent.append(Message(topic, value, headers))


HANDLED = []


def publish(producer, topic, payload):
    # kafka-producer
    return len(producer.sent)


def consume(msg):
    # kafka-consumer
    return msg.value


def echo(request, context):
    # grpc-server
    return request


def ask(stub, request):
    # grpc-client
    return response


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        request = self
        self.rfile.read(int(self.headers["Content-Length"]))
        # http-server
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def post_scores(url, payload):
    # http-client
    return response.status_code


def dispatch(task, payload):
    # ray-remote-call
    return ref


# ray-remote-task


async def enqueue(queue, item):
    # queue-producer
    return item


async def drain(queue):
    # queue-consumer
    return item


def main():
    print(",".join(Reranker("mini-ranker").rerank(["b", "a"])))
    try:
        fail("boom")
    except ValueError:
        pass

    producer = Producer()
    publish(producer, "orders", b"o-1")
    print(consume(producer.sent[0]).decode())

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("stagelight.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = SimpleNamespace(Echo=channel.unary_unary("/stagelight.Echo/Echo"))
        print(ask(stub, b"ping").decode())
    server.stop(None)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(post_scores(f"http://127.0.0.1:{http.server_address[1]}/scores", {"score": 1}))
    http.shutdown()

    print(dispatch(embed, "doc"))

    async def queue_round():
        queue = asyncio.Queue()
        await enqueue(queue, "job-1")
        return await drain(queue)

    print(asyncio.run(queue_round()))


main()
`;

/** The placeholders a user fills in where the defaults do not fit the program. */
async function instrument(doc: ScaffoldDocument): Promise<ScaffoldDocument> {
  // Decorator style on the methods, a `with` block around fail's body.
  for (const m of ['ranked = self.order', 'ranked = list(docs)'])
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));
  doc = apply(
    doc,
    await traceFunction(doc, at(doc.text, 'raise ValueError'), { pythonStyle: 'with' }),
  );
  doc = apply(
    doc,
    await wrapSelectionInSpan(doc, at(doc.text, 'ranked.sort()'), { spanName: 'sort docs' }),
  );
  doc = apply(
    doc,
    await addStageAttributes(doc, at(doc.text, 'ranked = self.order'), {
      keys: ['model.name', 'batch_size', 'cache.hit'],
      values: { batch_size: 'len(docs)', 'cache.hit': 'False' },
    }),
  );
  // The injecting functions that start no span of their own are traced, so there is a span
  // to inject.
  for (const m of ['# grpc-client', '# http-client', '# ray-remote-call', '# queue-producer'])
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));
  doc = await propagate(doc, '# kafka-producer', 'kafka-producer');
  doc = await propagate(doc, '# kafka-consumer', 'kafka-consumer', {
    2: 'HANDLED.append(msg.value)',
  });
  doc = await propagate(doc, '# grpc-server', 'grpc-server', { 2: 'Echo' });
  doc = await propagate(doc, '# grpc-client', 'grpc-client', { 3: 'Echo' });
  doc = await propagate(doc, '# http-server', 'http-server');
  doc = await propagate(doc, '# http-client', 'http-client');
  doc = await propagate(doc, '# ray-remote-call', 'ray-remote-call');
  doc = await propagate(doc, '# ray-remote-task', 'ray-remote-task', { 1: 'embed' });
  doc = await propagate(doc, '# queue-producer', 'queue-producer');
  doc = await propagate(doc, '# queue-consumer', 'queue-consumer');
  return doc;
}

test('generated Python sends the right spans and continues traces across each propagation boundary', async (t) => {
  const tool = process.env.STAGELIGHT_TEST_PYTHON
    ? { ok: true as const, path: process.env.STAGELIGHT_TEST_PYTHON }
    : pythonWithOtel();
  if (!tool.ok) return t.skip(tool.reason);
  const server = await startTestServer();
  let doc: ScaffoldDocument = {
    text: APP,
    language: 'python',
    fileName: path.join(tmp, 'pipeline.py'),
  };
  doc = apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      { serviceName: 'scaffold-py', endpoint: server.endpoints.grpc, protocol: 'grpc' },
    ),
  );
  doc = await instrument(doc);
  writeFileSync(doc.fileName!, doc.text);
  const run = await runToEnd(tool.path, [doc.fileName!], {
    env: programEnv({}),
    cwd: tmp,
    timeoutMs: 30_000,
  });
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${doc.text}`);
  assert.equal(run.out, 'a,b\no-1\nping\n204\ndoc\njob-1\n');

  const spans = await spansOf(server.endpoints.api, 'scaffold-py', 14);
  assert.equal(spans.length, 14, spans.map((s) => s.span.name).join(', '));
  for (const s of spans) assert.equal(s.resource['service.name'], 'scaffold-py');
  const by = (name: string) => spanNamed(spans, name);

  const rerank = by('Reranker.rerank');
  assertRoot(rerank, 'rerank');
  assertChild(by('Reranker.order'), rerank, 'order under rerank');
  assertChild(by('sort docs'), by('Reranker.order'), 'the wrapped selection under order');
  assert.deepEqual(attrs(rerank.attributes), {
    'model.name': 'mini-ranker',
    batch_size: 2,
    'cache.hit': false,
  });
  assertFailed(by('fail'), /boom/, 'boom');
  assert.equal(rerank.status.code ?? 0, 0);

  // Kafka: PRODUCER span around produce(), CONSUMER span from the message headers.
  const publish = by('orders publish');
  assertRoot(publish, 'publish');
  assert.equal(publish.kind, 4);
  const consumed = by('orders process');
  assert.equal(consumed.kind, 5);
  assertChild(consumed, publish, 'Kafka consumer under the producer');
  // gRPC: the handler's SERVER span continues the traced caller through the call metadata.
  const echo = by('Echo');
  assert.equal(echo.kind, 2);
  assertChild(echo, by('ask'), 'gRPC server under the client');
  // HTTP: the handler continues the traced caller through the request headers.
  assertChild(by('handle'), by('post_scores'), 'HTTP handler under the client');
  // Ray: the task continues the caller through its carrier argument.
  assertChild(by('embed'), by('dispatch'), 'remote task under the caller');
  // Queue: the consumer continues the producer through the carrier put with the item.
  const queued = by('process');
  assert.equal(queued.kind, 5);
  assertChild(queued, by('enqueue'), 'queue consumer under the producer');
  for (const root of ['ask', 'post_scores', 'dispatch', 'enqueue']) assertRoot(by(root), root);
});

const LOGGING_APP = `import logging

log = logging.getLogger("pipeline")


def rerank(docs):
    log.info("reranking %d docs", len(docs))
    return sorted(docs)


rerank(["b", "a"])
logging.warning("done outside any span")
`;

for (const protocol of ['grpc', 'http'] as const) {
  test(`generated Python with the logs pipeline (${protocol}): logging inside a span arrives with that span`, async (t) => {
    const tool = process.env.STAGELIGHT_TEST_PYTHON
      ? { ok: true as const, path: process.env.STAGELIGHT_TEST_PYTHON }
      : pythonWithOtel();
    if (!tool.ok) return t.skip(tool.reason);
    const server = await startTestServer();
    const service = `scaffold-py-logs-${protocol}`;
    let doc: ScaffoldDocument = {
      text: LOGGING_APP,
      language: 'python',
      fileName: path.join(tmp, `logging_${protocol}.py`),
    };
    doc = apply(
      doc,
      await addTracingSetup(
        doc,
        { files: [], read: () => undefined },
        {
          serviceName: service,
          endpoint: protocol === 'grpc' ? server.endpoints.grpc : server.endpoints.http,
          protocol,
          logs: true,
        },
      ),
    );
    doc = apply(doc, await traceFunction(doc, at(doc.text, 'log.info(')));
    writeFileSync(doc.fileName!, doc.text);
    // No OTEL_ variables: the endpoint written into the setup is the one used.
    const run = await runToEnd(tool.path, [doc.fileName!], {
      env: programEnv({}),
      cwd: tmp,
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0, `${run.out}\n--- program ---\n${doc.text}`);

    const rerank = spanNamed(await spansOf(server.endpoints.api, service, 1), 'rerank');
    type Log = { body: unknown; traceId: string; spanId: string; severityText: string };
    const logs = await waitFor(async () => {
      const r = await getJson(`${server.endpoints.api}/logs?service=${service}`);
      const got = (r.body as { logs: Log[] }).logs;
      return got.length >= 2 ? got : undefined;
    });
    const inSpan = logs.find((l) => l.severityText === 'INFO');
    assert.deepEqual(inSpan?.body, { stringValue: 'reranking 2 docs' });
    assert.equal(inSpan?.traceId, rerank.traceId);
    assert.equal(inSpan?.spanId, rerank.spanId);
    const outside = logs.find((l) => l.severityText === 'WARN');
    assert.deepEqual(outside?.body, { stringValue: 'done outside any span' });
    assert.equal(outside?.traceId, '');
  });
}
