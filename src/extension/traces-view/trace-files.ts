/**
 * Open Trace File and Export Trace: OTLP/JSON in and out through the engine, the same path the
 * HTTP receiver takes. What a file may hold is `core/otlp/otlp-json-file.ts`'s to say.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { spansToOtlpJson, stringifyOtlpJson } from '../../core/otlp/export.js';
import { bodySignal, firstTraceId, requestBodies } from '../../core/otlp/otlp-json-file.js';
import { logsPathBeside, logsToOtlpJson } from '../../core/otlp/logs-export.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { formatCount } from '../../shared/format.js';

/** Asks for OTLP/JSON files and ingests them; returns the trace to show, if any. */
export async function openTraceFile(
  receiver: ReceiverController,
  uri?: vscode.Uri,
): Promise<string | undefined> {
  const uris =
    uri !== undefined
      ? [uri]
      : await vscode.window.showOpenDialog({
          canSelectMany: true,
          filters: { 'OTLP JSON': ['json', 'jsonl'], 'All files': ['*'] },
          openLabel: 'Open Trace',
          title: 'Open OTLP/JSON trace file',
        });
  if (uris === undefined || uris.length === 0) return undefined;
  const server = await receiver.start();
  let accepted = 0;
  let rejected = 0;
  let traceId: string | undefined;
  let logLines = 0;
  const problems: string[] = [];
  for (const u of uris) {
    const text = Buffer.from(await vscode.workspace.fs.readFile(u)).toString('utf8');
    for (const body of requestBodies(text)) {
      try {
        const signal = bodySignal(body);
        if (signal !== 'traces') {
          // A trace's logs (Export Trace writes them beside it), or metrics: their own ingest.
          const sink = signal === 'logs' ? server.engine.logs : server.engine.metrics;
          const o = sink.ingestJson(Buffer.from(body, 'utf8'), 'http');
          if (signal === 'logs') logLines += o.accepted;
          if (o.errorMessage !== '') problems.push(o.errorMessage);
          continue;
        }
        const outcome = server.engine.ingestJson(Buffer.from(body, 'utf8'), 'http');
        accepted += outcome.accepted;
        rejected += outcome.rejected;
        if (outcome.errorMessage !== '') problems.push(outcome.errorMessage);
        if (traceId === undefined && outcome.accepted > 0) {
          try {
            traceId = firstTraceId(JSON.parse(body));
          } catch {
            // Not parseable by JSON.parse but accepted by the decoder: no id to jump to.
          }
        }
      } catch (e) {
        problems.push(`${vscode.workspace.asRelativePath(u)}: ${(e as Error).message}`);
      }
    }
  }
  server.engine.store.flush();
  if (accepted === 0 && logLines > 0) {
    void vscode.window.showInformationMessage(
      `Stagelight: ${formatCount(logLines, 'log line')} read; open the trace file too to see them on its spans.`,
    );
    return undefined;
  }
  if (accepted === 0) {
    void vscode.window.showErrorMessage(
      `Stagelight: no spans read. ${problems.slice(0, 3).join(' ') || 'The file holds no OTLP/JSON spans.'}`,
    );
    return undefined;
  }
  const note = rejected > 0 ? ` (${rejected} rejected: ${problems[0] ?? ''})` : '';
  void vscode.window.showInformationMessage(
    `Stagelight: ${formatCount(accepted, 'span')}${logLines > 0 ? ` and ${formatCount(logLines, 'log line')}` : ''} read${note}.`,
  );
  return traceId ?? server.engine.store.list({ limit: 1 })[0]?.traceId;
}

/** Writes a trace as OTLP/JSON; asks which one when `traceId` is not given. */
export async function exportTrace(receiver: ReceiverController, traceId?: string): Promise<void> {
  const engine = receiver.engine;
  if (engine === undefined || engine.store.traceCount === 0) {
    void vscode.window.showInformationMessage('Stagelight: there is no trace to export.');
    return;
  }
  let id = traceId;
  if (id === undefined || engine.store.get(id) === undefined) {
    const pick = await vscode.window.showQuickPick(
      engine.store.list({ limit: 200 }).map((t) => ({
        label: t.rootName || '(no root)',
        description: `${t.rootService} · ${formatCount(t.spanCount, 'span')} · ${new Date(t.startMs).toLocaleTimeString()}`,
        detail: t.traceId,
        traceId: t.traceId,
      })),
      { title: 'Export which trace?', matchOnDetail: true },
    );
    if (pick === undefined) return;
    id = pick.traceId;
  }
  const entry = engine.store.get(id);
  if (entry === undefined) return;
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(
      path.join(
        vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir(),
        `trace-${entry.traceId}.json`,
      ),
    ),
    filters: { 'OTLP JSON': ['json'] },
    title: 'Export trace as OTLP/JSON',
  });
  if (target === undefined) return;
  const text = stringifyOtlpJson(spansToOtlpJson(entry.spans));
  await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
  // The trace's log lines go beside it as an ExportLogsServiceRequest: one signal per file is
  // what other OTLP tools import (a traces file with a logs document in it reads as neither).
  const logs = engine.signals.logStore.forTrace(entry.traceId);
  let logNote = '';
  if (logs.length > 0) {
    const logsTarget = target.with({ path: logsPathBeside(target.path) });
    const logsText = stringifyOtlpJson(logsToOtlpJson(logs));
    await vscode.workspace.fs.writeFile(logsTarget, Buffer.from(logsText, 'utf8'));
    logNote = ` and ${formatCount(logs.length, 'log line')} to ${logsTarget.fsPath}`;
  }
  void vscode.window.showInformationMessage(
    `Stagelight: exported ${formatCount(entry.spans.length, 'span')} to ${target.fsPath}${logNote}.`,
  );
}
