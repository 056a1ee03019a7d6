/**
 * A receiver in a child process of its own (run with --expose-gc), for tests that measure its
 * memory: a fresh heap holds nothing but the receiver. Driven over IPC by `memory-budget.test.ts`:
 * `{type: 'ingest', batches}` feeds realistic OTLP batches in-process (`bench/batches.ts`),
 * `{type: 'measure'}` waits for the background analysis, collects garbage to a fixed point and
 * answers with the process's memory and what the engine counts.
 */
import { startServer } from '../../../src/core/server.js';
import { BatchSource, generateTemplates } from '../../../bench/batches.js';

type Message = { type: 'ingest'; batches: number } | { type: 'measure' } | { type: 'exit' };

async function settled(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const maxMemoryBytes = Number(process.argv[2]);
  const server = await startServer({
    grpcPort: 0,
    httpPort: 0,
    maxMemoryBytes,
    maxSpans: 10_000_000,
    settleMs: 50,
    log: { info: () => {}, warn: () => {}, error: (m) => console.error(m) },
  });
  const engine = server.engine;
  const source = new BatchSource(generateTemplates());
  const send = (m: unknown) => process.send!(m);
  process.on('message', (m: Message) => {
    void (async () => {
      if (m.type === 'ingest') {
        // One batch at a time: the sender's copies are garbage before anything is measured.
        for (let i = 0; i < m.batches; i++) engine.ingestProtobuf(source.take(1)[0]!, 'grpc');
        send({ type: 'done' });
      } else if (m.type === 'measure') {
        await engine.insightsFresh();
        const memory = await settled();
        send({
          type: 'memory',
          memory,
          counted: engine.memory(),
          spans: engine.store.spanCount,
          evicted: engine.store.evicted.spans,
        });
      } else {
        await server.close();
        process.exit(0);
      }
    })();
  });
  send({ type: 'ready', httpPort: server.http.port, memory: await settled() });
}

void main();
