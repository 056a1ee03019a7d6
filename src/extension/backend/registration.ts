/**
 * The team backend feature: Pull Traces from Backend, Open Trace by ID (the local receiver
 * first, then the backend), the token in secret storage, and trace ids in the terminal and in
 * log files as links that open the trace. The work is in `core/backend`; this adapts it.
 *
 * Nothing here blocks the receiver: backend requests are awaited off the ingest path, each
 * pulled trace is ingested as one bounded request, and every backend error ends as one plain
 * notification.
 */
import * as vscode from 'vscode';
import { BackendError, JaegerClient } from '../../core/backend/jaeger-client.js';
import {
  ingestSink,
  parseDurationMs,
  pullTrace,
  pullTraces,
  type PullReport,
} from '../../core/backend/pull.js';
import { findTraceIdLinks } from '../../core/backend/trace-id-links.js';
import { formatCount } from '../../shared/format.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import type { WithReceiver } from '../receiver/registration.js';
import { COMMANDS } from '../shared/commands.js';
import { backendSettings } from '../shared/config.js';

const TOKEN_KEY = 'stagelight.backend.token';
const LAST_QUERY_KEY = 'stagelight.backend.lastQuery';
/** Lines of a document searched for trace ids at most (a huge log is linked at its start). */
const MAX_LINK_LINES = 20_000;

interface LastQuery {
  service: string;
  operation: string;
  minDuration: string;
  since: string;
}

export interface BackendRegistration {
  context: vscode.ExtensionContext;
  receiver: ReceiverController;
  withReceiver: WithReceiver;
  log: vscode.LogOutputChannel;
}

export function registerBackend(r: BackendRegistration): vscode.Disposable[] {
  const { context, receiver, withReceiver, log } = r;

  /** The client for the configured backend, or undefined (after saying why) when none is set. */
  async function client(quiet = false): Promise<JaegerClient | undefined> {
    const settings = backendSettings();
    if (settings.url === '') {
      if (!quiet) {
        const pick = await vscode.window.showWarningMessage(
          'Stagelight: no team backend is set. Set stagelight.backend.url to your Jaeger query service (e.g. http://jaeger:16686).',
          'Open Settings',
        );
        if (pick === 'Open Settings') {
          void vscode.commands.executeCommand(
            'workbench.action.openSettings',
            'stagelight.backend',
          );
        }
      }
      return undefined;
    }
    const token = (await context.secrets.get(TOKEN_KEY)) || undefined;
    try {
      return new JaegerClient({ url: settings.url, token, timeoutMs: settings.timeoutMs });
    } catch (e) {
      void vscode.window.showErrorMessage(
        `Stagelight: stagelight.backend.url: ${(e as Error).message}`,
      );
      return undefined;
    }
  }

  /** A backend error, said plainly, with the setting or the token one click away. */
  function showBackendError(e: unknown): void {
    if (!(e instanceof BackendError)) throw e;
    log.warn(`team backend: ${e.message}`);
    const actions = e.kind === 'unauthorized' ? ['Set Token'] : ['Open Settings'];
    void vscode.window.showErrorMessage(`Stagelight: ${e.message}`, ...actions).then((pick) => {
      if (pick === 'Set Token') void vscode.commands.executeCommand(COMMANDS.setBackendToken);
      if (pick === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'stagelight.backend');
      }
    });
  }

  function summary(report: PullReport): string {
    const failed =
      report.failed.length === 0
        ? ''
        : `; ${formatCount(report.failed.length, 'trace')} not stored (${report.failed[0]!.message})`;
    return (
      `pulled ${formatCount(report.traces.length, 'trace')} (${formatCount(report.acceptedSpans, 'span')}) ` +
      `from ${report.source}${failed}`
    );
  }

  async function ask(prompt: string, value: string, validate?: (v: string) => string | undefined) {
    return vscode.window.showInputBox({
      prompt,
      value,
      ignoreFocusOut: true,
      validateInput: (v) => (validate === undefined ? undefined : validate(v.trim())),
    });
  }

  const durationCheck = (what: string, optional: boolean) => (v: string) => {
    if (optional && v === '') return undefined;
    try {
      parseDurationMs(v, what);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };

  const pull = async (): Promise<void> => {
    const c = await client();
    if (c === undefined) return;
    const last = context.workspaceState.get<LastQuery>(LAST_QUERY_KEY) ?? {
      service: '',
      operation: '',
      minDuration: '',
      since: '1h',
    };
    let services: string[];
    try {
      services = await c.services();
    } catch (e) {
      showBackendError(e);
      return;
    }
    if (services.length === 0) {
      void vscode.window.showInformationMessage(
        `Stagelight: ${c.label} has no traces of any service yet.`,
      );
      return;
    }
    const service = await vscode.window.showQuickPick(
      [...services].sort((a, b) => Number(b === last.service) - Number(a === last.service)),
      { title: `Service to find traces of in ${c.label}`, ignoreFocusOut: true },
    );
    if (service === undefined) return;
    const operation = await ask(
      'Only traces with a span of this name (empty: any)',
      last.operation,
    );
    if (operation === undefined) return;
    const minDuration = await ask(
      'Only traces with a span at least this long, e.g. 2s (empty: any)',
      last.minDuration,
      durationCheck('The least duration', true),
    );
    if (minDuration === undefined) return;
    const since = await ask(
      'How far back, e.g. 30m, 1h, 2d',
      last.since || '1h',
      durationCheck('The time range', false),
    );
    if (since === undefined) return;
    const query: LastQuery = {
      service: service.trim(),
      operation: operation.trim(),
      minDuration: minDuration.trim(),
      since: since.trim(),
    };
    await context.workspaceState.update(LAST_QUERY_KEY, query);
    await withReceiver(async () => {
      const engine = receiver.engine;
      if (engine === undefined) return;
      const now = Date.now();
      try {
        const report = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: `Stagelight: searching ${c.label}…`,
          },
          () =>
            pullTraces(
              c,
              {
                service: query.service,
                operation: query.operation || undefined,
                minDurationMs:
                  query.minDuration === '' ? undefined : parseDurationMs(query.minDuration, 'min'),
                startMs: now - parseDurationMs(query.since, 'since'),
                endMs: now + 60_000,
              },
              ingestSink(engine),
            ),
        );
        log.info(`team backend: ${summary(report)}`);
        if (report.traces.length === 0 && report.failed.length === 0) {
          void vscode.window.showInformationMessage(
            `Stagelight: no traces of ${query.service} in ${c.label} for this search.`,
          );
          return;
        }
        const pick = await vscode.window.showInformationMessage(
          `Stagelight: ${summary(report)}. They show as "prod" beside local runs.`,
          'Show Insights',
          'Open Slowest',
        );
        if (pick === 'Show Insights') void vscode.commands.executeCommand(COMMANDS.showInsights);
        if (pick === 'Open Slowest') void vscode.commands.executeCommand(COMMANDS.openSlowestTrace);
      } catch (e) {
        showBackendError(e);
      }
    });
  };

  const openById = async (given?: unknown): Promise<void> => {
    let text = typeof given === 'string' ? given : undefined;
    text ??= await vscode.window.showInputBox({
      prompt: 'Trace id (32 hex digits), a traceparent, or a log line with trace_id=…',
      ignoreFocusOut: true,
      validateInput: (v) => (traceIdIn(v) === undefined ? 'No trace id in this text' : undefined),
    });
    if (text === undefined) return;
    const traceId = traceIdIn(text);
    if (traceId === undefined) {
      void vscode.window.showErrorMessage(`Stagelight: no trace id in "${text.slice(0, 80)}"`);
      return;
    }
    await withReceiver(async () => {
      const engine = receiver.engine;
      if (engine === undefined) return;
      if (engine.store.get(traceId) !== undefined) {
        await vscode.commands.executeCommand(COMMANDS.openTrace, traceId);
        return;
      }
      const c = await client(true);
      if (c === undefined) {
        void vscode.window.showWarningMessage(
          `Stagelight: trace ${traceId} is not in the local receiver (never received, or evicted), and no team backend is set (stagelight.backend.url) to look in.`,
        );
        return;
      }
      try {
        const report = await vscode.window.withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: `Stagelight: looking for trace ${traceId.slice(0, 8)} in ${c.label}…`,
          },
          () => pullTrace(c, traceId, ingestSink(engine)),
        );
        log.info(`team backend: ${summary(report)}`);
        if (engine.store.get(traceId) === undefined) {
          void vscode.window.showErrorMessage(
            `Stagelight: trace ${traceId}: ${report.failed[0]?.message ?? 'not stored'}`,
          );
          return;
        }
        await vscode.commands.executeCommand(COMMANDS.openTrace, traceId);
      } catch (e) {
        if (e instanceof BackendError && e.kind === 'not-found') {
          void vscode.window.showWarningMessage(
            `Stagelight: trace ${traceId} is neither in the local receiver nor in ${c.label}.`,
          );
          return;
        }
        showBackendError(e);
      }
    });
  };

  const setToken = async (): Promise<void> => {
    const token = await vscode.window.showInputBox({
      prompt:
        'Token for the team backend, sent as "Authorization: Bearer <token>" (empty: remove it)',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) =>
        v === '' || /^[\x21-\x7e]+$/.test(v) ? undefined : 'Printable ASCII without spaces',
    });
    if (token === undefined) return;
    if (token === '') await context.secrets.delete(TOKEN_KEY);
    else await context.secrets.store(TOKEN_KEY, token);
    void vscode.window.showInformationMessage(
      token === ''
        ? 'Stagelight: backend token removed.'
        : 'Stagelight: backend token saved in secret storage.',
    );
  };

  const terminalLinks: vscode.TerminalLinkProvider<vscode.TerminalLink & { traceId: string }> = {
    provideTerminalLinks: (ctx) =>
      findTraceIdLinks(ctx.line).map((l) => ({
        startIndex: l.start,
        length: l.end - l.start,
        tooltip: 'Open the trace in Stagelight',
        traceId: l.traceId,
      })),
    handleTerminalLink: (link) => openById(link.traceId),
  };

  const documentLinks: vscode.DocumentLinkProvider = {
    provideDocumentLinks: (doc) => {
      const links: vscode.DocumentLink[] = [];
      const lines = Math.min(doc.lineCount, MAX_LINK_LINES);
      for (let i = 0; i < lines; i++) {
        for (const l of findTraceIdLinks(doc.lineAt(i).text)) {
          const args = encodeURIComponent(JSON.stringify([l.traceId]));
          const link = new vscode.DocumentLink(
            new vscode.Range(i, l.start, i, l.end),
            vscode.Uri.parse(`command:${COMMANDS.openTraceById}?${args}`),
          );
          link.tooltip = 'Open the trace in Stagelight';
          links.push(link);
        }
      }
      return links;
    },
  };

  return [
    vscode.commands.registerCommand(COMMANDS.pullTraces, pull),
    vscode.commands.registerCommand(COMMANDS.openTraceById, openById),
    vscode.commands.registerCommand(COMMANDS.setBackendToken, setToken),
    vscode.window.registerTerminalLinkProvider(terminalLinks),
    vscode.languages.registerDocumentLinkProvider(
      [{ language: 'log' }, { language: 'plaintext' }, { pattern: '**/*.log' }],
      documentLinks,
    ),
  ];
}

/** The trace id in a pasted text: a bare id, a traceparent, or a log line. */
function traceIdIn(text: string): string | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{32}$/.test(t) && !/^0+$/.test(t)) return t.toLowerCase();
  return findTraceIdLinks(t)[0]?.traceId ?? findTraceIdLinks(`trace ${t}`)[0]?.traceId;
}
