/**
 * The TypeScript Propagate Context snippets are real: an uninstrumented program gets Add Tracing
 * Setup, Trace This Function on the injecting side and every snippet, is type-checked against
 * the real packages' types, then runs as its own process with the OpenTelemetry JS SDK against
 * a real Stagelight receiver. On each boundary the extracting side's span must be a child of the
 * injecting side's span.
 *
 * The boundaries: gRPC over @grpc/grpc-js (a real server and client on loopback), HTTP with
 * fetch to node:http on loopback, a worker_threads MessageChannel; Kafka messages are carried in
 * process in kafkajs's shape (a producer whose send() keeps the messages, headers as Buffers),
 * since kafkajs is not installed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addTracingSetup,
  traceFunction,
  type ScaffoldDocument,
} from '../../src/core/scaffold/index.js';
import { startTestServer } from './helpers/server.js';
import { runToEnd } from './helpers/sdk-toolchains.js';
import {
  apply,
  assertChild,
  assertRoot,
  at,
  programEnv,
  propagate,
  spanNamed,
  spansOf,
  tsTypeErrors,
} from './helpers/scaffold-run.js';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-ts-prop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const APP = `import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  type ServerUnaryCall,
  type sendUnaryData,
  type ClientUnaryCall,
  type Metadata,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';

const handled: string[] = [];

/** A Kafka message as kafkajs hands it to eachMessage: header values as Buffers. */
interface KafkaMessage {
  value: string;
  headers?: Record<string, Buffer | string>;
}

/** Keeps sent messages in memory in place of a broker, with kafkajs's send() shape. */
class MemoryProducer {
  readonly sent: KafkaMessage[] = [];
  async send(batch: { topic: string; messages: { value: string; headers?: Record<string, string> }[] }) {
    for (const m of batch.messages) {
      const headers: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Buffer.from(v);
      this.sent.push({ value: m.value, headers });
    }
  }
}

async function handle(message: KafkaMessage): Promise<void> {
  handled.push(message.value);
}

export async function publish(producer: MemoryProducer, topic: string, payload: string): Promise<number> {
  // kafka-producer
  return producer.sent.length;
}

export async function consume(topic: string, message: KafkaMessage): Promise<void> {
  // kafka-consumer
}

const ECHO: ServiceDefinition = {
  echo: {
    path: '/stagelight.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};
/** The client as a typed stub declares it (the generic constructor types its methods loosely). */
interface EchoStub {
  echo(
    request: Buffer,
    metadata: Metadata,
    callback: (err: ServiceError | null, response?: Buffer) => void,
  ): ClientUnaryCall;
  close(): void;
}
const EchoClient = makeGenericClientConstructor(ECHO, 'Echo');

function echo(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
  // grpc-server
}

export async function ask(client: EchoStub, request: Buffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    // grpc-client
  });
}

function scores(req: IncomingMessage, res: ServerResponse): void {
  // http-server
}

export async function postScores(url: string, payload: unknown): Promise<number> {
  // http-client
  return response.status;
}

export function enqueue(worker: MessagePort, payload: string): void {
  // queue-producer
}

function work(message: { payload: string; carrier: Record<string, string> }): void {
  // queue-consumer
}

async function main(): Promise<void> {
  const producer = new MemoryProducer();
  await publish(producer, 'orders', 'o-1');
  await consume('orders', producer.sent[0]!);

  const server = new Server();
  server.addService(ECHO, { echo });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const client = new EchoClient(\`127.0.0.1:\${port}\`, credentials.createInsecure()) as unknown as EchoStub;
  console.log((await ask(client, Buffer.from('ping'))).toString());
  client.close();
  server.forceShutdown();

  const http = createServer(scores);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port: httpPort } = http.address() as AddressInfo;
  console.log(await postScores(\`http://127.0.0.1:\${httpPort}/scores\`, { score: 1 }));
  http.close();

  const { port1, port2 } = new MessageChannel();
  const received = once(port2, 'message');
  enqueue(port1, 'job-1');
  const [message] = await received;
  work(message);
  port1.close();
  console.log(handled.join(','));
}

void main();
`;

test('generated TypeScript propagation snippets continue the trace across each boundary', async () => {
  const server = await startTestServer();
  let doc: ScaffoldDocument = {
    text: APP,
    language: 'typescript',
    fileName: path.join(ROOT, 'test', 'fixtures', 'scaffold-run', '__propagation__.ts'),
  };
  doc = apply(
    doc,
    await addTracingSetup(
      doc,
      { files: [], read: () => undefined },
      { serviceName: 'scaffold-ts-prop', endpoint: server.endpoints.http, protocol: 'http' },
    ),
  );
  doc = await propagate(doc, '// kafka-producer', 'kafka-producer');
  doc = await propagate(doc, '// kafka-consumer', 'kafka-consumer');
  doc = await propagate(doc, '// grpc-server', 'grpc-server', {
    2: 'Echo',
    3: 'callback(null, call.request);',
  });
  doc = await propagate(doc, '// grpc-client', 'grpc-client', {
    2: 'echo',
    4: 'if (err) reject(err);\n      else resolve(response!);',
  });
  doc = await propagate(doc, '// http-server', 'http-server', { 3: 'res.writeHead(204).end();' });
  doc = await propagate(doc, '// http-client', 'http-client');
  doc = await propagate(doc, '// queue-producer', 'queue-producer');
  doc = await propagate(doc, '// queue-consumer', 'queue-consumer', {
    3: 'handled.push(message.payload);',
  });
  // The injecting functions start no span of their own: traced, so there is one to inject.
  for (const m of [
    '// kafka-producer',
    'return new Promise<Buffer>',
    '// http-client',
    '// queue-producer',
  ])
    doc = apply(doc, await traceFunction(doc, at(doc.text, m)));

  assert.deepEqual(tsTypeErrors(doc.text, doc.fileName!), [], doc.text);
  const file = path.join(tmp, 'propagation.ts');
  writeFileSync(file, doc.text);
  const run = await runToEnd(process.execPath, ['--import', 'tsx', file], {
    env: programEnv({ NODE_PATH: path.join(ROOT, 'node_modules') }),
    cwd: ROOT,
    timeoutMs: 30_000,
  });
  assert.equal(run.code, 0, `${run.out}\n--- program ---\n${doc.text}`);
  assert.equal(run.out, 'ping\n204\no-1,job-1\n');

  const spans = await spansOf(server.endpoints.api, 'scaffold-ts-prop', 8);
  assert.equal(spans.length, 8, spans.map((s) => s.span.name).join(', '));
  const by = (name: string) => spanNamed(spans, name);
  for (const root of ['publish', 'ask', 'postScores', 'enqueue']) assertRoot(by(root), root);
  const consumed = by('orders process');
  assert.equal(consumed.kind, 5);
  assertChild(consumed, by('publish'), 'Kafka consumer under the producer');
  const echo = by('Echo');
  assert.equal(echo.kind, 2);
  assertChild(echo, by('ask'), 'gRPC server under the client');
  const handled = by('handle');
  assert.equal(handled.kind, 2);
  assertChild(handled, by('postScores'), 'HTTP handler under the client');
  const queued = by('process');
  assert.equal(queued.kind, 5);
  assertChild(queued, by('enqueue'), 'queue consumer under the producer');
});
