/**
 * The generated Java is real: an uninstrumented program gets Add Tracing Setup, Trace This
 * Function, Wrap Selection in Span, Add Stage Attributes and every Propagate Context snippet,
 * then is compiled with javac against the OpenTelemetry Java SDK (the versions of
 * test/interop/java; Maven Central, test/fixtures/scaffold-run/java/pom.xml) and runs as its own
 * process against a real Stagelight receiver. What arrives through the read API must have the
 * right names, parents, attributes, error status and resource; on each propagation boundary the
 * extracting side's span is a child of the injecting side's.
 *
 * The boundaries: gRPC with the OpenTelemetry interceptors on both ends of a real grpc-java
 * health call on loopback, java.net.http to the JDK's HttpServer on loopback (there is no Java
 * HTTP server snippet: the handler reports the traceparent it got), an executor; Kafka records
 * are kafka-clients' own ProducerRecords, sent to its MockProducer in place of a broker.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  addStageAttributes,
  traceFunction,
  wrapSelectionInSpan,
  type ScaffoldDocument,
} from '../../src/core/scaffold/index.js';
import { startTestServer } from './helpers/server.js';
import { javaProgram, runToEnd } from './helpers/sdk-toolchains.js';
import {
  apply,
  setupAtDefaultPort,
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

const POM = path.resolve(__dirname, '..', 'fixtures', 'scaffold-run', 'java');

const APP = `package com.example.pipeline;

import com.sun.net.httpserver.HttpServer;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** A small pipeline, not instrumented yet. */
public class Pipeline {
    static final List<String> handled = Collections.synchronizedList(new ArrayList<>());

    private final String model;

    public Pipeline(String model) {
        this.model = model;
    }

    public List<String> rerank(List<String> docs) {
        List<String> out = order(docs);
        return out;
    }

    List<String> order(List<String> docs) {
        List<String> out = new ArrayList<>(docs);
        out.sort(null);
        return out;
    }

    static int fail(String reason) {
        throw new IllegalStateException(reason);
    }

    static void publish(MockProducer<String, String> producer, String topic, String key, String value) {
        // kafka-producer
    }

    static void consume(ProducerRecord<String, String> record) {
        // kafka-consumer
    }

    static void handle(ProducerRecord<String, String> record) {
        handled.add(record.value());
    }

    static Server serve(int port, BindableService service) throws Exception {
        // grpc-server
        return server.start();
    }

    static String check(String target) {
        // grpc-client
        try {
            return HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus().name();
        } finally {
            channel.shutdownNow();
        }
    }

    static int postScores(HttpClient client, String url) throws Exception {
        // http-client
        return response.statusCode();
    }

    static void enqueue(ExecutorService executor) {
        // queue-producer
    }

    static void work() {
        // queue-consumer
    }

    static void handleJob() {
        handled.add("job-1");
    }

    public static void main(String[] args) throws Exception {
        System.out.println(new Pipeline("mini-ranker").rerank(List.of("b", "a")));
        try {
            fail("boom");
        } catch (IllegalStateException e) {
            System.out.println(e.getMessage());
        }

        MockProducer<String, String> producer = new MockProducer<>(true, null, new StringSerializer(), new StringSerializer());
        publish(producer, "orders", "k", "o-1");
        consume(producer.history().get(0));

        Server server = serve(0, new HealthStatusManager().getHealthService());
        System.out.println(check("127.0.0.1:" + server.getPort()));
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);

        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/scores", exchange -> {
            System.out.println("traceparent " + exchange.getRequestHeaders().getFirst("traceparent"));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        http.start();
        System.out.println(postScores(HttpClient.newHttpClient(), "http://127.0.0.1:" + http.getAddress().getPort() + "/scores"));
        http.stop(0);

        ExecutorService executor = Executors.newSingleThreadExecutor();
        enqueue(executor);
        executor.shutdown();
        executor.awaitTermination(10, TimeUnit.SECONDS);
        System.out.println(String.join(",", handled));
    }
}
`;

async function instrument(doc: ScaffoldDocument): Promise<ScaffoldDocument> {
  for (const m of [
    'List<String> out = order',
    'List<String> out = new ArrayList',
    'throw new IllegalStateException',
  ])
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));
  doc = apply(
    doc,
    await wrapSelectionInSpan(doc, at(doc.text, 'out.sort(null)'), { spanName: 'sort docs' }),
  );
  doc = apply(
    doc,
    await addStageAttributes(doc, at(doc.text, 'List<String> out = order'), {
      keys: ['model.name', 'batch_size', 'cache.hit'],
      values: { batch_size: 'docs.size()', 'cache.hit': 'false' },
    }),
  );
  doc = await propagate(doc, '// kafka-producer', 'kafka-producer');
  doc = await propagate(doc, '// kafka-consumer', 'kafka-consumer');
  doc = await propagate(doc, '// grpc-server', 'grpc-server');
  doc = await propagate(doc, '// grpc-client', 'grpc-client');
  doc = await propagate(doc, '// http-client', 'http-client');
  doc = await propagate(doc, '// queue-producer', 'queue-producer');
  // The task body the CONSUMER span wraps (the default, work(), is the method it is in).
  doc = await propagate(doc, '// queue-consumer', 'queue-consumer', { 2: 'handleJob();' });
  // The injecting methods start no span of their own: traced (once they have a body), so
  // there is a span to inject.
  for (const m of ['// kafka-producer', '// grpc-client', '// http-client', '// queue-producer'])
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));
  return doc;
}

/** A second program in the same compilation, its setup over OTLP/gRPC. */
const EMBED = `package com.example.pipeline;

public class Embed {
    static int embed(String text) {
        return text.length();
    }

    public static void main(String[] args) {
        System.out.println(embed("abc"));
    }
}
`;

/** Both generated programs, compiled by one javac. */
let files: Record<string, string> = {};
before(async () => {
  const pipeline = await instrument(
    await setupAtDefaultPort(
      { text: APP, language: 'java', fileName: 'Pipeline.java' },
      'scaffold-java',
      'http',
    ),
  );
  let embed = await setupAtDefaultPort(
    { text: EMBED, language: 'java', fileName: 'Embed.java' },
    'scaffold-java-grpc',
    'grpc',
  );
  embed = apply(embed, await traceFunction(embed, at(embed.text, 'return text.length()')));
  files = { 'Pipeline.java': pipeline.text, 'Embed.java': embed.text };
});

test('generated Java sends the right spans and continues traces across each propagation boundary', async (t) => {
  const doc = { text: files['Pipeline.java']! };
  const program = javaProgram(POM, files, 'com.example.pipeline.Pipeline');
  if (!program.ok) return t.skip(program.reason);
  const server = await startTestServer();
  const run = await runToEnd(program.command, program.args, {
    env: programEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: server.endpoints.http }),
    timeoutMs: 60_000,
  });
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${doc.text}`);
  // (kafka-clients logs through SLF4J, which says it has no binding)
  const lines = run.out
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('SLF4J: '));
  const traceparent = lines.find((l) => l.startsWith('traceparent '))?.split(' ')[1];
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('traceparent ')),
    ['[a, b]', 'boom', 'SERVING', '204', 'o-1,job-1'],
    run.out,
  );

  const spans = await spansOf(server.endpoints.api, 'scaffold-java', 12);
  assert.equal(spans.length, 12, spans.map((s) => s.span.name).join(', '));
  for (const s of spans) assert.equal(s.resource['service.name'], 'scaffold-java');
  const by = (name: string) => spanNamed(spans, name);

  const rerank = by('Pipeline.rerank');
  assertRoot(rerank, 'rerank');
  assertChild(by('Pipeline.order'), rerank, 'order under rerank');
  assertChild(by('sort docs'), by('Pipeline.order'), 'the wrapped selection under order');
  assert.deepEqual(attrs(rerank.attributes), {
    'model.name': 'mini-ranker',
    batch_size: 2,
    'cache.hit': false,
  });
  assert.equal(rerank.status.code ?? 0, 0);
  assertFailed(by('Pipeline.fail'), /^boom$/, 'boom');

  // Kafka: the record headers carry publish's span to the consumer.
  const consumed = by('orders process');
  assert.equal(consumed.kind, 5);
  assertChild(consumed, by('Pipeline.publish'), 'Kafka consumer under the producer');
  // gRPC: the client interceptor's span under check, the server interceptor's under it.
  const health = spans.filter((s) => s.span.name === 'grpc.health.v1.Health/Check');
  const client = health.find((s) => s.span.kind === 3)?.span;
  const served = health.find((s) => s.span.kind === 2)?.span;
  assert.ok(client && served, `a client and a server span (${health.length})`);
  assertChild(client, by('Pipeline.check'), 'gRPC client span under check');
  assertChild(served, client, 'gRPC server span under the client span');
  // HTTP: the request carried postScores's span as its traceparent.
  const post = by('Pipeline.postScores');
  assert.match(traceparent ?? '', new RegExp(`^00-${post.traceId}-${post.spanId}-0[13]$`));
  // Queue: Context.wrap brings enqueue's span to the task's CONSUMER span.
  const queued = by('process');
  assert.equal(queued.kind, 5);
  assertChild(queued, by('Pipeline.enqueue'), 'queue consumer under the producer');
  for (const root of ['Pipeline.publish', 'Pipeline.check', 'Pipeline.postScores'])
    assertRoot(by(root), root);
  assertRoot(by('Pipeline.enqueue'), 'enqueue');
});

test('a generated Java setup over OTLP/gRPC follows OTEL_EXPORTER_OTLP_ENDPOINT', async (t) => {
  const program = javaProgram(POM, files, 'com.example.pipeline.Embed');
  if (!program.ok) return t.skip(program.reason);
  const server = await startTestServer();
  const run = await runToEnd(program.command, program.args, {
    env: programEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: server.endpoints.grpc }),
    timeoutMs: 60_000,
  });
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${files['Embed.java']}`);
  assert.equal(run.out, '3\n');
  const [embed] = await spansOf(server.endpoints.api, 'scaffold-java-grpc', 1);
  assert.equal(embed!.span.name, 'Embed.embed');
  assert.equal(embed!.resource['service.name'], 'scaffold-java-grpc');
});
