/**
 * The Logs view in the extension host: log records made by the OpenTelemetry JS logs SDK,
 * posted to the receiver's `/v1/logs` with the SDK's protobuf serializer; the records without a
 * span context are listed newest first, each linked to the trace its service was running then,
 * and the filter command narrows them.
 */
import { strict as assert } from 'node:assert';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { StagelightApi } from '../../../src/extension/extension';
import { startReceiver, waitFor } from '../helpers';
import { sendPipelineTraces } from '../otel';

const SERVICE = 'logs-spec';

describe('logs view', () => {
  let api: StagelightApi;
  let grpc: string;

  before(async () => {
    ({ api, grpc } = await startReceiver());
  });
  after(async () => {
    await vscode.commands.executeCommand('stagelight.logs.clearFilter');
    // The specs share the receiver's persisted store: leave it empty, as found (a trace left
    // here would count in the next spec's lenses).
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  it('lists the records without a span, linked to the trace active then, and filters them', async () => {
    const [traceId] = await sendPipelineTraces(grpc, SERVICE, 1);
    const entry = await waitFor('the trace in the store', () =>
      api.receiver.engine?.store.get(traceId!),
    );
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': SERVICE }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('logs-spec');
    logger.emit({
      severityNumber: SeverityNumber.WARN,
      body: 'GPU 0 memory at 97%',
      timestamp: entry.startMs + 5,
    });
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      body: 'model loaded',
      timestamp: entry.startMs - 3_600_000,
    });
    logger.emit({
      context: trace.setSpanContext(context.active(), {
        traceId: traceId!,
        spanId: entry.spans[0]!.spanId,
        traceFlags: TraceFlags.SAMPLED,
      }),
      severityNumber: SeverityNumber.ERROR,
      body: 'written inside a span',
    });
    await provider.forceFlush();
    const body = ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!;
    await provider.shutdown();
    const res = await fetch(`${api.receiver.endpoints!.http}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    assert.equal(res.status, 200);

    const rows = await waitFor('two rows in the Logs view', () => {
      const r = api.logs.snapshot().rows;
      return r.length === 2 ? r : undefined;
    });
    assert.deepEqual(
      rows.map((r) => [r.label, r.description, r.traceId]),
      [
        ['model loaded', `INFO · ${SERVICE}`, undefined],
        ['GPU 0 memory at 97%', `WARN · ${SERVICE}`, traceId],
      ],
    );
    await vscode.commands.executeCommand('stagelight.logs.filter', 'severity:warn gpu');
    assert.deepEqual(
      api.logs.snapshot().rows.map((r) => r.label),
      ['GPU 0 memory at 97%'],
    );
    await vscode.commands.executeCommand('stagelight.logs.filter', 'severity:loud');
    assert.match(api.logs.snapshot().message ?? '', /unknown severity "loud"/);
  });
});
