/**
 * OTLP log requests for `npm run bench:ingest`: records made by the OpenTelemetry JS logs SDK,
 * as a pipeline's stages write them (a body of a few words, a few attributes, a severity, the
 * trace and span ids of the span they were written in), encoded by `ProtobufLogsSerializer`,
 * `LOG_RECORDS_PER_BATCH` per request. Every request has its own trace ids, so the stores index
 * as many traces as a real stream of requests would make.
 */
import { randomBytes } from 'node:crypto';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';

export const LOG_RECORDS_PER_BATCH = 512;
/** Records written inside one trace (its stages' lines). */
export const LOG_RECORDS_PER_TRACE = 8;

const STAGES = ['preprocessing', 'embedding', 'retrieval', 'reranking', 'generation'];

export interface LogBatches {
  bodies: Buffer[];
  /** One trace id of each request, with the records it holds of that trace. */
  sampleTraceIds: string[];
}

export async function generateLogBatches(count: number): Promise<LogBatches> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'bench-gateway',
      'service.instance.id': 'bench-1',
    }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('bench.pipeline', '1.0.0');
  const bodies: Buffer[] = [];
  const sampleTraceIds: string[] = [];
  const t0 = Date.now();
  for (let b = 0; b < count; b++) {
    exporter.reset();
    let traceId = '';
    for (let i = 0; i < LOG_RECORDS_PER_BATCH; i++) {
      if (i % LOG_RECORDS_PER_TRACE === 0) {
        traceId = randomBytes(16).toString('hex');
        if (i === 0) sampleTraceIds.push(traceId);
      }
      const stage = STAGES[i % STAGES.length]!;
      const error = i % 97 === 0;
      logger.emit({
        context: trace.setSpanContext(context.active(), {
          traceId,
          spanId: randomBytes(8).toString('hex'),
          traceFlags: TraceFlags.SAMPLED,
        }),
        timestamp: t0 + b * 10 + i / 100,
        severityNumber: error ? SeverityNumber.ERROR : SeverityNumber.INFO,
        severityText: error ? 'ERROR' : 'INFO',
        body: error
          ? `${stage} failed: deadline exceeded`
          : `${stage}: 32 candidates in batch ${b}`,
        attributes: { stage, 'batch.size': 32, 'model.name': 'demo-cross-encoder' },
      });
    }
    await provider.forceFlush();
    bodies.push(
      Buffer.from(
        ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords()) as Uint8Array,
      ),
    );
  }
  await provider.shutdown();
  return { bodies, sampleTraceIds };
}
