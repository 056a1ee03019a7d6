/**
 * The retrieval worker process: the consumer of the `retrieval-requests` queue. Messages arrive
 * over IPC with the producer's trace context in their headers and are processed one at a time,
 * in arrival order; a message waits in the queue while earlier ones are searched. Its consumer
 * span is a child of the producer span, so the wait shows as the gap between the two.
 */
import { SpanKind } from '@opentelemetry/api';
import { VectorIndex } from './vector-index.js';
import { extractHeaders, recordFailure, startTracing } from '../telemetry/tracing.js';
import { sourceLocator } from '../telemetry/source-location.js';
import type { ConfigureMessage, FromWorker, RetrievalConfig, ToWorker } from '../protocol.js';

const here = sourceLocator('demo/retrieval/retrieval-worker.ts');

export const RETRIEVAL_SERVICE = 'demo-retrieval';
export const RETRIEVAL_QUEUE = 'retrieval-requests';

type SearchMessage = Extract<ToWorker, { type: 'search' }>;

export async function runRetrievalWorkerProcess(cfg: RetrievalConfig): Promise<void> {
  const tracing = startTracing({
    serviceName: RETRIEVAL_SERVICE,
    endpoint: cfg.endpoint,
    clockOffsetMs: cfg.clockOffsetMs,
    enabled: cfg.tracing,
  });
  const { tracer, log } = tracing;
  const send = (m: FromWorker) => process.send?.(m);
  // Searches in arrival order, with configuration changes in between: a change applies to the
  // messages sent after it, even when earlier ones are still queued.
  const queue: Array<SearchMessage | ConfigureMessage> = [];
  // The search mode can change between requests (a normal warm-up, then the incident).
  let mode = cfg.mode;
  let expansions = cfg.expansions;
  let busy = false;
  let stopping = false;
  const searchesQueued = () => queue.filter((q) => q.type === 'search').length;
  // Read when the metrics are exported (every second), not on every message.
  tracing.meter
    .createObservableGauge('queue.depth', {
      description: 'Messages waiting in the retrieval queue',
      unit: '{message}',
    })
    .addCallback((result) =>
      result.observe(searchesQueued(), { 'messaging.destination.name': RETRIEVAL_QUEUE }),
    );

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await tracing.shutdown().catch(() => {});
    process.exit(0);
  };

  const processOne = (msg: SearchMessage) => {
    const parent = extractHeaders(msg.headers);
    tracer.startActiveSpan(
      'process retrieval-requests',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...here('process retrieval-requests'),
          'messaging.system': 'node-ipc',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': RETRIEVAL_QUEUE,
          'messaging.message.id': String(msg.id),
          'messaging.queue.depth': searchesQueued(),
        },
      },
      parent,
      (span) => {
        try {
          const result = tracer.startActiveSpan(
            'vector_search',
            {
              attributes: {
                ...here('vector_search'),
                'index.kind': mode === 'ivf' ? 'ivf' : 'flat',
                'index.size': cfg.docs,
                'index.dim': cfg.dim,
                'retrieval.queries': mode === 'ivf' ? 1 : expansions,
                'retrieval.top_k': msg.topK,
              },
            },
            (s) => {
              try {
                log.info(`searching ${cfg.docs} documents for the top ${msg.topK}`, {
                  'index.kind': mode === 'ivf' ? 'ivf' : 'flat',
                  'retrieval.top_k': msg.topK,
                });
                const r = index.search(msg.vector, msg.topK, mode, expansions);
                s.setAttributes({ 'retrieval.scanned': r.scanned, 'output.size': r.ids.length });
                return r;
              } finally {
                s.end();
              }
            },
          );
          // End the span before replying: the gateway's next stage starts after the reply, and
          // the trace should show the consumer finished by then.
          span.end();
          send({ type: 'result', id: msg.id, ok: true, docIds: result.ids, scores: result.scores });
        } catch (e) {
          log.error(`retrieval failed: ${(e as Error).message}`, e);
          recordFailure(span, e);
          span.end();
          send({
            type: 'result',
            id: msg.id,
            ok: false,
            error: (e as Error).message,
            code: 'INTERNAL',
          });
        }
      },
    );
  };

  const drain = () => {
    if (busy) return;
    const next = queue.shift();
    if (next === undefined) return;
    if (next.type === 'configure') {
      if (next.retrieval !== undefined) {
        mode = next.retrieval.mode;
        expansions = next.retrieval.expansions;
      }
      drain();
      return;
    }
    busy = true;
    processOne(next);
    // Send the message's spans before taking the next one, as a job worker flushes after each
    // job. A worker that goes from one CPU-bound search to the next gives its batch exporter
    // one turn of the event loop per message, too few for a gRPC export: with a backlog its
    // spans arrived only when the queue had drained, and the traces looked complete without
    // their consumer (the wait read as untraced time). Then the next message, after new
    // arrivals are read (and queued).
    void tracing
      .flush()
      .catch(() => {})
      .finally(() => {
        busy = false;
        setImmediate(drain);
      });
  };

  process.on('message', (m: ToWorker) => {
    if (m.type === 'shutdown') void stop();
    else if (m.type === 'configure') {
      queue.push(m);
      drain();
    } else if (m.type === 'search') {
      queue.push(m);
      drain();
    }
  });
  process.on('disconnect', () => void stop());
  // Ctrl-C in a terminal reaches the whole process group: the gateway decides when we stop
  // (after a flush), so that the spans of the requests in flight are not lost.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void stop());

  let index: VectorIndex;
  try {
    index = new VectorIndex(cfg.dim, cfg.docs, cfg.seed);
  } catch (e) {
    send({ type: 'fatal', error: (e as Error).message });
    await stop();
    return;
  }
  send({ type: 'ready' });
}
