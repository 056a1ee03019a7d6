/**
 * The generated Go is real: an uninstrumented program gets Add Tracing Setup, Trace This
 * Function, Wrap Selection in Span, Add Stage Attributes and every Propagate Context snippet,
 * then is built with the OpenTelemetry Go SDK (the versions of test/interop/go, modules from the
 * Go module proxy; go.mod and go.sum in test/fixtures/scaffold-run/go) and runs as its own
 * process against a real Stagelight receiver. What arrives through the read API must have the
 * right names, parents, attributes, error status (returned errors and panics) and resource; on
 * each propagation boundary the extracting side's span is a child of the injecting side's.
 *
 * The boundaries: gRPC with otelgrpc on both ends of a real grpc-go health call on loopback,
 * HTTP with net/http on loopback, a channel of jobs; Kafka messages are kafka-go's own
 * `kafka.Message` values, kept in memory by a writer with kafka-go's WriteMessages signature in
 * place of a broker.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  addStageAttributes,
  traceFunction,
  wrapSelectionInSpan,
  type ScaffoldDocument,
} from '../../src/core/scaffold/index.js';
import { startTestServer } from './helpers/server.js';
import { goProgram, runToEnd } from './helpers/sdk-toolchains.js';
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

const MODULE = path.resolve(__dirname, '..', 'fixtures', 'scaffold-run', 'go');

const APP = `package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var handled []string

// Reranker orders documents.
type Reranker struct {
	Model string
}

func (r *Reranker) Rerank(ctx context.Context, docs []string) ([]string, error) {
	out := r.order(ctx, docs)
	return out, nil
}

func (r *Reranker) order(ctx context.Context, docs []string) []string {
	out := append([]string(nil), docs...)
	sort.Strings(out)
	return out
}

func fail(ctx context.Context, reason string) error {
	return errors.New(reason)
}

func explode(ctx context.Context) {
	panic("kaboom")
}

// memWriter keeps written messages in memory in place of a broker.
type memWriter struct {
	topic string
	sent  []kafka.Message
}

func (w *memWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	for _, m := range msgs {
		m.Topic = w.topic
		w.sent = append(w.sent, m)
	}
	return nil
}

func publish(ctx context.Context, writer *memWriter, payload []byte) error {
	// kafka-producer
	return nil
}

func consume(ctx context.Context, msg kafka.Message) {
	// kafka-consumer
}

func handle(ctx context.Context, msg kafka.Message) {
	handled = append(handled, string(msg.Value))
}

func serveHealth() (string, func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	// grpc-server
	healthpb.RegisterHealthServer(server, health.NewServer())
	go server.Serve(lis)
	return lis.Addr().String(), server.Stop
}

func check(ctx context.Context, addr string) error {
	// grpc-client
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func scores(w http.ResponseWriter, r *http.Request) {
	// http-server
	handled = append(handled, r.URL.Path)
	w.WriteHeader(http.StatusNoContent)
}

func postScores(ctx context.Context, url string, body io.Reader) error {
	// http-client
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

type job struct {
	payload string
	carrier propagation.MapCarrier
}

func enqueue(ctx context.Context, jobs chan<- job, payload string) {
	// queue-producer
}

func drain(jobs <-chan job) {
	// queue-consumer
}

func process(ctx context.Context, payload string) {
	handled = append(handled, payload)
}

func main() {
	ctx := context.Background()
	r := &Reranker{Model: "mini-ranker"}
	out, err := r.Rerank(ctx, []string{"b", "a"})
	fmt.Println(strings.Join(out, ","), err)
	fmt.Println(fail(ctx, "boom"))
	func() {
		defer func() { fmt.Println(recover()) }()
		explode(ctx)
	}()

	writer := &memWriter{topic: "orders"}
	fmt.Println(publish(ctx, writer, []byte("o-1")))
	consume(ctx, writer.sent[0])

	addr, stop := serveHealth()
	fmt.Println(check(ctx, addr))
	stop()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(scores)}
	go srv.Serve(lis)
	fmt.Println(postScores(ctx, "http://"+lis.Addr().String()+"/scores", strings.NewReader("{}")))
	srv.Close()

	jobs := make(chan job, 1)
	enqueue(ctx, jobs, "job-1")
	close(jobs)
	drain(jobs)
	fmt.Println(strings.Join(handled, ","))
}
`;

async function instrument(doc: ScaffoldDocument): Promise<ScaffoldDocument> {
  for (const m of [
    'out := r.order',
    'out := append',
    'return errors.New',
    'panic("kaboom")',
    // The injecting functions that start no span of their own are traced, so there is a span
    // to inject.
    '// kafka-producer',
    '// grpc-client',
    '// http-client',
    '// queue-producer',
  ])
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));
  doc = apply(
    doc,
    await wrapSelectionInSpan(doc, at(doc.text, 'sort.Strings(out)'), { spanName: 'sort docs' }),
  );
  doc = apply(
    doc,
    await addStageAttributes(doc, at(doc.text, 'out := r.order'), {
      keys: ['model.name', 'batch_size', 'cache.hit'],
      // model.name: the receiver's Model field, found by the command.
      values: { batch_size: 'len(docs)', 'cache.hit': 'false' },
    }),
  );
  doc = await propagate(doc, '// kafka-producer', 'kafka-producer');
  doc = await propagate(doc, '// kafka-consumer', 'kafka-consumer');
  doc = await propagate(doc, '// grpc-server', 'grpc-server');
  doc = await propagate(doc, '// grpc-client', 'grpc-client', { 1: 'addr' });
  doc = await propagate(doc, '// http-server', 'http-server');
  doc = await propagate(doc, '// http-client', 'http-client', { 2: 'body' });
  doc = await propagate(doc, '// queue-producer', 'queue-producer');
  doc = await propagate(doc, '// queue-consumer', 'queue-consumer');
  return doc;
}

/** A second program of the same module (one build), its setup over OTLP/HTTP. */
const EMBED = `package main

import "context"

func embed(ctx context.Context, text string) int {
	return len(text)
}

func main() {
	println(embed(context.Background(), "abc"))
}
`;

/** Both generated programs, main packages of one module. */
let files: Record<string, string> = {};
before(async () => {
  const pipeline = await instrument(
    await setupAtDefaultPort(
      { text: APP, language: 'go', fileName: 'main.go' },
      'scaffold-go',
      'grpc',
    ),
  );
  let embed = await setupAtDefaultPort(
    { text: EMBED, language: 'go', fileName: 'main.go' },
    'scaffold-go-http',
    'http',
  );
  embed = apply(embed, await traceFunction(embed, at(embed.text, 'return len(text)')));
  files = { 'pipeline/main.go': pipeline.text, 'embed/main.go': embed.text };
});

test('generated Go sends the right spans and continues traces across each propagation boundary', async (t) => {
  const doc = { text: files['pipeline/main.go']! };
  const program = goProgram(MODULE, files, 'pipeline');
  if (!program.ok) return t.skip(program.reason);
  // Every edit together leaves the file as gofmt writes it (gofmt comes with go).
  for (const [name, text] of Object.entries(files))
    assert.equal(execFileSync('gofmt', ['-d'], { input: text, encoding: 'utf8' }), '', name);
  const server = await startTestServer();
  const run = await runToEnd(program.command, program.args, {
    env: programEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: server.endpoints.grpc }),
    timeoutMs: 30_000,
  });
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${doc.text}`);
  assert.equal(
    run.out,
    'a,b <nil>\nboom\nkaboom\n<nil>\n<nil>\n<nil>\no-1,/scores,job-1\n',
    doc.text,
  );

  const spans = await spansOf(server.endpoints.api, 'scaffold-go', 14);
  assert.equal(spans.length, 14, spans.map((s) => s.span.name).join(', '));
  for (const s of spans) assert.equal(s.resource['service.name'], 'scaffold-go');
  const by = (name: string) => spanNamed(spans, name);

  const rerank = by('Reranker.Rerank');
  assertRoot(rerank, 'Rerank');
  assertChild(by('Reranker.order'), rerank, 'order under Rerank');
  assertChild(by('sort docs'), by('Reranker.order'), 'the wrapped selection under order');
  assert.deepEqual(attrs(rerank.attributes), {
    'model.name': 'mini-ranker',
    batch_size: 2,
    'cache.hit': false,
  });
  assert.equal(rerank.status.code ?? 0, 0);
  assertFailed(by('fail'), /^boom$/, 'boom');
  // One exception event: span.End records the panic; the generated code sets the status.
  assertFailed(by('explode'), /^kaboom$/, 'kaboom');

  // Kafka: the headers written with the message carry publish's span to the consumer.
  const consumed = by('orders process');
  assert.equal(consumed.kind, 5);
  assertChild(consumed, by('publish'), 'Kafka consumer under the producer');
  // gRPC: otelgrpc's client span under check, its server span under the client span.
  const health = spans.filter((s) => s.span.name === 'grpc.health.v1.Health/Check');
  const client = health.find((s) => s.span.kind === 3)?.span;
  const served = health.find((s) => s.span.kind === 2)?.span;
  assert.ok(client && served, `a client and a server span (${health.length})`);
  assertChild(client, by('check'), 'gRPC client span under check');
  assertChild(served, client, 'gRPC server span under the client span');
  // HTTP: the handler's span continues postScores through the request headers.
  const handled = by('handle');
  assert.equal(handled.kind, 2);
  assertChild(handled, by('postScores'), 'HTTP handler under the client');
  // Queue: the job's carrier brings enqueue's span to the consumer.
  const queued = by('process');
  assert.equal(queued.kind, 5);
  assertChild(queued, by('enqueue'), 'queue consumer under the producer');
  for (const root of ['publish', 'check', 'postScores', 'enqueue']) assertRoot(by(root), root);
});

test('a generated Go setup over OTLP/HTTP follows OTEL_EXPORTER_OTLP_ENDPOINT', async (t) => {
  const program = goProgram(MODULE, files, 'embed');
  if (!program.ok) return t.skip(program.reason);
  const server = await startTestServer();
  const run = await runToEnd(program.command, program.args, {
    env: programEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: server.endpoints.http }),
    timeoutMs: 30_000,
  });
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${files['embed/main.go']}`);
  assert.equal(run.out, '3\n');
  const [embed] = await spansOf(server.endpoints.api, 'scaffold-go-http', 1);
  assert.equal(embed!.span.name, 'embed');
  assert.equal(embed!.resource['service.name'], 'scaffold-go-http');
});
