/**
 * The scaffolding commands in the editor: each reads the document, asks the pure core
 * (`src/core/scaffold`) for edits, and applies them as ONE WorkspaceEdit, so a command is one
 * undo step. A result that is not `edited` (already instrumented, unsupported, nothing at the
 * cursor) shows its message and changes nothing.
 *
 * This module and the core it imports (the TypeScript compiler, tree-sitter) are the
 * dist/extension-scaffold.js bundle, loaded on the first scaffolding command
 * (`scaffold-load.ts`); activation never loads them. The decisions around each edit (transport,
 * endpoint, names, notices, project root) are the core's (`command-choices.ts`, `project-root.ts`).
 *
 * Every command resolves with a `ScaffoldOutcome`, for the integration tests, and takes an
 * optional options object that skips its input boxes and quick picks (the same tests, and
 * keybindings). Editor context menus pass the document's Uri first; it is accepted anywhere in
 * the arguments.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  STAGE_ATTRIBUTES,
  addStageAttributes,
  addTracingSetup,
  addZeroCodeSetup,
  detectProject,
  insertPropagation,
  positionAt,
  propagationSnippets,
  stageAttributesRefusal,
  traceFunction,
  wrapSelectionInSpan,
  type DependencyInstructions,
  type OtlpProtocol,
  type ProjectFiles,
  type PropagationPattern,
  type ScaffoldDocument,
  type ScaffoldLanguage,
  type ScaffoldResult,
  type ScaffoldStatus,
} from '../../core/scaffold/index.js';
import {
  defaultServiceName,
  endpointFor,
  protocolFor,
  resultNotices,
  validateServiceName,
  validateSpanName,
  type ProtocolSetting,
  type ReceiverBaseUrls,
} from '../../core/scaffold/command-choices.js';
import { scaffoldLanguage } from '../../core/scaffold/languages.js';
import { findProjectRoot, projectFiles } from '../../core/scaffold/project-root.js';
import { withInterpreter } from '../../core/scaffold/python-interpreter.js';
import { snippetInsertion } from '../../core/scaffold/snippet-insertion.js';
import { pythonInterpreter, terminalShell } from './python-interpreter.js';

/** What the commands need from the extension. */
export interface ScaffoldHost {
  readonly log: vscode.LogOutputChannel;
  /** Starts the receiver if needed; undefined when it cannot (the user has been told why). */
  receiverUrls(): Promise<ReceiverBaseUrls | undefined>;
  /** The configured receiver ports, for a setup written while the receiver cannot run. */
  configuredPorts(): { grpcPort: number; httpPort: number };
}

/** How a command ended; `applied` is true only when the document changed. */
export interface ScaffoldOutcome {
  status: ScaffoldStatus | 'cancelled' | 'no-editor' | 'unsupported-language' | 'stale' | 'failed';
  applied: boolean;
  /** The notices shown. */
  messages: string[];
  /** 0-based line that starts the new span, after the edit (where the latency lens appears). */
  spanLine?: number;
  /** Add Tracing Setup only. */
  setup?: {
    serviceName: string;
    endpoint: string;
    protocol: OtlpProtocol;
    projectRoot: string;
    dependencies: DependencyInstructions;
  };
  /** Add Tracing Setup with zero-code instrumentation (Python) only. */
  zeroCode?: {
    projectRoot: string;
    /** Manifests that got the packages, e.g. `requirements.txt`. */
    manifests: string[];
    dependencies: DependencyInstructions;
  };
}

/**
 * Options of `stagelight.addTracingSetup` (each skips its prompt). `mode` (Python): the setup
 * written into the file (`code`) or zero-code instrumentation; asked for when no option is
 * given, `code` when other options are (a caller that passes options wants no prompt).
 */
export interface SetupArgs {
  serviceName?: string;
  protocol?: OtlpProtocol;
  mode?: 'code' | 'zero-code';
  /** Python and TS/JS: write the logs pipeline too (default off). */
  logs?: boolean;
}
/** Options of `stagelight.traceFunction`; `offset` is a UTF-16 offset into the document. */
export interface TraceArgs {
  offset?: number;
  spanName?: string;
}
export interface WrapArgs {
  spanName?: string;
}
export interface AttributeArgs {
  keys?: string[];
}
export interface PropagateArgs {
  pattern?: PropagationPattern;
}

interface Target {
  doc: vscode.TextDocument;
  editor: vscode.TextEditor | undefined;
  language: ScaffoldLanguage;
  scaffoldDoc: ScaffoldDocument;
  version: number;
}

const done = (status: ScaffoldOutcome['status'], messages: string[] = []): ScaffoldOutcome => ({
  status,
  applied: false,
  messages,
});

/** Splits command arguments into the target Uri (if any) and the options object (if any). */
function parseArgs<T extends object>(args: readonly unknown[]): { uri?: vscode.Uri; opts: T } {
  let uri: vscode.Uri | undefined;
  let opts = {} as T;
  for (const a of args) {
    if (a instanceof vscode.Uri) uri = a;
    else if (a !== null && typeof a === 'object' && !Array.isArray(a)) opts = a as T;
  }
  return { uri, opts };
}

async function target(uri: vscode.Uri | undefined): Promise<Target | ScaffoldOutcome> {
  let editor = vscode.window.activeTextEditor;
  if (uri !== undefined && editor?.document.uri.toString() !== uri.toString()) {
    editor = vscode.window.visibleTextEditors.find(
      (e) => e.document.uri.toString() === uri.toString(),
    );
  }
  const doc = editor?.document ?? (uri ? await vscode.workspace.openTextDocument(uri) : undefined);
  if (doc === undefined) {
    const text = 'Stagelight: open a Python, TypeScript, JavaScript, Go or Java file first.';
    void vscode.window.showInformationMessage(text);
    return done('no-editor', [text]);
  }
  const language = scaffoldLanguage(doc.languageId);
  if (language === undefined) {
    const text = `Stagelight: instrumentation is written for Python, TypeScript, JavaScript, Go and Java, not ${doc.languageId}.`;
    void vscode.window.showWarningMessage(text);
    return done('unsupported-language', [text]);
  }
  return {
    doc,
    editor,
    language,
    scaffoldDoc: { text: doc.getText(), language, fileName: doc.fileName },
    version: doc.version,
  };
}

function isOutcome(t: Target | ScaffoldOutcome): t is ScaffoldOutcome {
  return 'status' in t;
}

/** Shows the notices of a result without waiting for the user (a notification may stay open). */
function notify(result: Pick<ScaffoldResult, 'status' | 'messages'>): string[] {
  const notices = resultNotices(result);
  for (const n of notices) {
    if (n.severity === 'info') void vscode.window.showInformationMessage(n.text);
    else void vscode.window.showWarningMessage(n.text);
  }
  return notices.map((n) => n.text);
}

function range(doc: vscode.TextDocument, start: number, end: number): vscode.Range {
  return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
}

/**
 * Applies a result as one WorkspaceEdit, unless the document changed while the core worked
 * (its offsets would be stale). Reveals the new span's line, where the latency lens will show.
 */
async function apply(
  t: Target,
  result: ScaffoldResult,
  host: ScaffoldHost,
  build?: (edit: vscode.WorkspaceEdit) => void,
): Promise<ScaffoldOutcome> {
  if (result.status !== 'edited') return done(result.status, notify(result));
  if (t.doc.version !== t.version) {
    const text =
      'Stagelight: the document changed while the edit was prepared; run the command again.';
    void vscode.window.showWarningMessage(text);
    return done('stale', [text]);
  }
  const edit = new vscode.WorkspaceEdit();
  if (build !== undefined) build(edit);
  else
    edit.set(
      t.doc.uri,
      result.edits.map((e) => vscode.TextEdit.replace(range(t.doc, e.start, e.end), e.newText)),
    );
  const ok = await vscode.workspace.applyEdit(edit);
  if (!ok) {
    const text = 'Stagelight: VS Code did not apply the edit (is the file read-only?).';
    host.log.warn(text);
    void vscode.window.showWarningMessage(text);
    return done('failed', [text]);
  }
  const outcome: ScaffoldOutcome = { status: 'edited', applied: true, messages: notify(result) };
  if (result.spanLineOffset !== undefined) {
    const line = t.doc.positionAt(result.spanLineOffset).line;
    outcome.spanLine = line;
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === t.doc);
    editor?.revealRange(
      new vscode.Range(line, 0, line, 0),
      vscode.TextEditorRevealType.InCenterIfOutsideViewport,
    );
  }
  return outcome;
}

function selectionOffsets(t: Target): { start: number; end: number } {
  const sel = t.editor?.selection;
  if (sel === undefined) return { start: 0, end: 0 };
  return { start: t.doc.offsetAt(sel.start), end: t.doc.offsetAt(sel.end) };
}

function protocolSetting(): ProtocolSetting {
  const v = vscode.workspace
    .getConfiguration('stagelight.scaffold')
    .get<string>('protocol', 'auto');
  return v === 'grpc' || v === 'http' ? v : 'auto';
}

/**
 * A scaffolding command: finds the target document from its arguments (or the active editor),
 * then runs `body`; a missing or unsupported document ends it with that outcome.
 */
function command<T extends object>(
  body: (
    t: Target,
    opts: T,
    host: ScaffoldHost,
    args: readonly unknown[],
  ) => Promise<ScaffoldOutcome>,
): (host: ScaffoldHost, ...args: unknown[]) => Promise<ScaffoldOutcome> {
  return async (host, ...args) => {
    const { uri, opts } = parseArgs<T>(args);
    const t = await target(uri);
    return isOutcome(t) ? t : body(t, opts, host, args);
  };
}

/**
 * A name from the command's options, else typed by the user; trimmed and checked by `validate`
 * (an option skips the input box, not the check). The outcome that ends the command instead when
 * the user cancels or the name is refused.
 */
async function askName(
  given: string | undefined,
  validate: (value: string) => string | undefined,
  box: vscode.InputBoxOptions,
): Promise<string | ScaffoldOutcome> {
  const typed = given ?? (await vscode.window.showInputBox({ ...box, validateInput: validate }));
  if (typed === undefined) return done('cancelled');
  const invalid = validate(typed);
  if (invalid !== undefined) {
    void vscode.window.showWarningMessage(`Stagelight: ${invalid}`);
    return done('cancelled', [invalid]);
  }
  return typed.trim();
}

/** `Stagelight: Add Tracing Setup`. */
export const addTracingSetupCommand = command<SetupArgs>(async (t, opts, host) => {
  const { doc, language } = t;
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
  const root =
    doc.uri.scheme === 'file'
      ? findProjectRoot(language, doc.uri.fsPath, folder?.uri.fsPath)
      : folder?.uri.fsPath;
  const files = projectFiles(root);
  const project = detectProject(language, files);

  let logs = opts.logs === true;
  if (language === 'python') {
    const mode = opts.mode ?? (Object.keys(opts).length > 0 ? 'code' : await askPythonMode());
    if (mode === undefined) return done('cancelled');
    if (mode === 'zero-code') return zeroCodeSetup(t, host, root ?? path.dirname(doc.fileName));
    if (mode === 'code-with-logs') logs = true;
  }

  const serviceName = await askName(opts.serviceName, validateServiceName, {
    title: 'Stagelight: Add Tracing Setup',
    prompt: `service.name of the traces (from ${project.manifest ?? 'the folder name'})`,
    value: defaultServiceName(project.name, root, doc.fileName),
    ignoreFocusOut: true,
  });
  if (typeof serviceName !== 'string') return serviceName;

  const protocol = opts.protocol ?? protocolFor(language, protocolSetting());
  const running = await host.receiverUrls();
  const endpoint = endpointFor(protocol, running, host.configuredPorts());
  const extra: string[] = [];
  if (running === undefined) {
    extra.push(
      `Stagelight: the receiver is not running; the setup points at ${endpoint}, the configured port.`,
    );
  }

  const result = await addTracingSetup(t.scaffoldDoc, files, {
    serviceName,
    endpoint,
    protocol,
    logs,
  });
  const outcome = await apply(t, result, host);
  if (!outcome.applied) return outcome;
  for (const text of extra) void vscode.window.showInformationMessage(text);
  outcome.messages.push(...extra);
  const projectRoot = root ?? path.dirname(doc.fileName);
  const dependencies = dependenciesFor(result.dependencies, language, doc.uri, projectRoot);
  outcome.setup = { serviceName, endpoint, protocol, projectRoot, dependencies };
  host.log.info(
    `Tracing setup written to ${doc.fileName}: service.name ${serviceName}, OTLP/${protocol} ${endpoint}` +
      (dependencies.command ? `; dependencies: ${dependencies.command}` : ''),
  );
  offerDependencies(dependencies, projectRoot);
  return outcome;
});

/** Python's two setups, as a quick pick; undefined when the user dismisses it. */
async function askPythonMode(): Promise<'code' | 'code-with-logs' | 'zero-code' | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      {
        label: 'Tracing setup in this file',
        detail: 'A tracer provider and OTLP exporter written into the file (opentelemetry-sdk).',
        mode: 'code' as const,
      },
      {
        label: 'Tracing and logs setup in this file',
        detail:
          "The same, plus a LoggingHandler on the root logger: Python's logging records arrive with the span they were written in.",
        mode: 'code-with-logs' as const,
      },
      {
        label: 'Zero-code instrumentation',
        detail:
          'No tracing code: opentelemetry-distro in the requirements; Run with Tracing starts the file under opentelemetry-instrument, which instruments the libraries it finds.',
        mode: 'zero-code' as const,
      },
    ],
    { title: 'Stagelight: Add Tracing Setup', placeHolder: 'How should this program be traced?' },
  );
  return picked?.mode;
}

/**
 * A project's files as the editor holds them: an open manifest's text (maybe unsaved) rather
 * than the disk's, since the edits are applied to the open document.
 */
function editorProjectFiles(root: string): ProjectFiles {
  const disk = projectFiles(root);
  return {
    files: disk.files,
    read: (name) => {
      const file = path.join(root, name);
      const open = vscode.workspace.textDocuments.find(
        (d) => d.uri.scheme === 'file' && d.uri.fsPath === file,
      );
      return open?.getText() ?? disk.read(name);
    },
  };
}

/**
 * Add Tracing Setup, zero-code: the marker comment in the file and the packages in the
 * project's manifests, in one WorkspaceEdit (one undo step), then the install command offered.
 */
async function zeroCodeSetup(
  t: Target,
  host: ScaffoldHost,
  projectRoot: string,
): Promise<ScaffoldOutcome> {
  const result = addZeroCodeSetup(t.scaffoldDoc, editorProjectFiles(projectRoot));
  const outcome = await apply(t, result, host, (edit) => {
    edit.set(
      t.doc.uri,
      result.edits.map((e) => vscode.TextEdit.replace(range(t.doc, e.start, e.end), e.newText)),
    );
    for (const m of result.manifests) {
      const uri = vscode.Uri.file(path.join(projectRoot, m.file));
      const text = editorProjectFiles(projectRoot).read(m.file) ?? '';
      edit.set(
        uri,
        m.edits.map(
          (e) =>
            new vscode.TextEdit(
              new vscode.Range(positionIn(text, e.start), positionIn(text, e.end)),
              e.newText,
            ),
        ),
      );
    }
  });
  if (!outcome.applied) return outcome;
  const dependencies = dependenciesFor(result.dependencies, 'python', t.doc.uri, projectRoot);
  const manifests = result.manifests.map((m) => m.file);
  outcome.zeroCode = { projectRoot, manifests, dependencies };
  host.log.info(
    `Zero-code tracing set up for ${t.doc.fileName}` +
      (manifests.length > 0 ? `; packages added to ${manifests.join(', ')}` : '') +
      (dependencies.command ? `; dependencies: ${dependencies.command}` : ''),
  );
  offerDependencies(dependencies, projectRoot);
  return outcome;
}

/** A UTF-16 offset of `text` as a Position (for a document that may not be open). */
function positionIn(text: string, offset: number): vscode.Position {
  const p = positionAt(text, offset);
  return new vscode.Position(p.line, p.character);
}

/**
 * The pip command run by the project's Python (the Python extension's selection, the workspace's
 * virtual environment), not whichever `python` is first on PATH.
 */
function dependenciesFor(
  deps: DependencyInstructions,
  language: ScaffoldLanguage,
  uri: vscode.Uri,
  projectRoot: string,
): DependencyInstructions {
  if (language !== 'python' || deps.command === undefined) return deps;
  const python = pythonInterpreter(uri, projectRoot).command;
  return { ...deps, command: withInterpreter(deps.command, python, terminalShell()) };
}

/**
 * Offers the dependency command in a terminal, or the Maven/Gradle snippet to paste. Nothing is
 * installed unless the user clicks; the notification is not awaited (it may stay open).
 */
function offerDependencies(deps: DependencyInstructions, cwd: string): void {
  if (deps.command !== undefined) {
    const command = deps.command;
    void vscode.window
      .showInformationMessage(
        `Stagelight: add the tracing dependencies with \`${command}\``,
        'Run in Terminal',
        'Copy Command',
      )
      .then((pick) => {
        if (pick === 'Copy Command') void vscode.env.clipboard.writeText(command);
        if (pick !== 'Run in Terminal') return;
        const terminal = vscode.window.createTerminal({
          name: 'Stagelight: dependencies',
          cwd: fs.existsSync(cwd) ? cwd : undefined,
        });
        terminal.show();
        // Sent with a newline: the user asked for it to run.
        terminal.sendText(command, true);
      });
    return;
  }
  const snippet = deps.manifestSnippet;
  if (snippet === undefined) return;
  void vscode.window
    .showInformationMessage(
      `Stagelight: add the tracing dependencies (${deps.packages.join(', ')}) to ${snippet.file}.`,
      'Show Snippet',
      'Copy Snippet',
      `Open ${snippet.file}`,
    )
    .then(async (pick) => {
      if (pick === 'Copy Snippet') await vscode.env.clipboard.writeText(snippet.text);
      else if (pick === 'Show Snippet') {
        const language = snippet.file.endsWith('.xml')
          ? 'xml'
          : snippet.file.endsWith('.kts')
            ? 'kotlin'
            : 'groovy';
        const d = await vscode.workspace.openTextDocument({ content: snippet.text, language });
        await vscode.window.showTextDocument(d, { viewColumn: vscode.ViewColumn.Beside });
      } else if (pick === `Open ${snippet.file}`) {
        const file = path.join(cwd, snippet.file);
        if (fs.existsSync(file)) await vscode.window.showTextDocument(vscode.Uri.file(file));
        else void vscode.window.showWarningMessage(`Stagelight: ${file} does not exist.`);
      }
    });
}

/** `Stagelight: Trace This Function` at the cursor (or at `offset`, from the lens). */
export const traceFunctionCommand = command<TraceArgs>(async (t, opts, host, args) => {
  // The lens and the code action pass (uri, offset) positionally.
  const offsetArg = args.find((a): a is number => typeof a === 'number');
  const offset = opts.offset ?? offsetArg;
  const at =
    offset !== undefined
      ? { start: offset, end: offset }
      : (() => {
          const s = selectionOffsets(t);
          return { start: s.start, end: s.start };
        })();
  const result = await traceFunction(
    t.scaffoldDoc,
    at,
    opts.spanName !== undefined ? { spanName: opts.spanName } : {},
  );
  return apply(t, result, host);
});

/** `Stagelight: Wrap Selection in Span`. */
export const wrapSelectionCommand = command<WrapArgs>(async (t, opts, host) => {
  const selection = selectionOffsets(t);
  if (selection.start === selection.end) {
    const text = 'Stagelight: select the statements to wrap in a span first.';
    void vscode.window.showInformationMessage(text);
    return done('not-found', [text]);
  }
  const spanName = await askName(opts.spanName, validateSpanName, {
    title: 'Stagelight: Wrap Selection in Span',
    prompt: 'Name of the span (the stage it measures)',
    placeHolder: 'tokenize',
  });
  if (typeof spanName !== 'string') return spanName;
  const result = await wrapSelectionInSpan(t.scaffoldDoc, selection, { spanName });
  return apply(t, result, host);
});

/** `Stagelight: Add Stage Attributes` to the span enclosing the cursor. */
export const addStageAttributesCommand = command<AttributeArgs>(async (t, opts, host) => {
  const at = selectionOffsets(t);
  const cursor = { start: at.start, end: at.start };
  // Before asking which attributes: without a span at the cursor there is nothing to add to.
  const refusal = await stageAttributesRefusal(t.scaffoldDoc, cursor);
  if (refusal !== undefined) return done(refusal.status, notify(refusal));
  let keys = opts.keys;
  if (keys === undefined) {
    type Item = vscode.QuickPickItem & { key?: string };
    const items: Item[] = [];
    for (const semconv of [true, false]) {
      items.push({
        label: semconv ? 'OpenTelemetry semantic conventions' : 'Common ML attributes',
        kind: vscode.QuickPickItemKind.Separator,
      });
      for (const a of STAGE_ATTRIBUTES.filter((x) => x.semconv === semconv)) {
        items.push({ label: a.key, description: a.type, detail: a.description, key: a.key });
      }
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Stagelight: Add Stage Attributes',
      placeHolder: 'Attributes to set on the enclosing span',
      canPickMany: true,
      matchOnDetail: true,
    });
    if (picked === undefined || picked.length === 0) return done('cancelled');
    keys = picked.flatMap((p) => (p.key === undefined ? [] : [p.key]));
  }
  const result = await addStageAttributes(t.scaffoldDoc, cursor, { keys });
  return apply(t, result, host);
});

/** `Stagelight: Propagate Context`: a snippet, with tab stops, at the cursor's line. */
export const propagateContextCommand = command<PropagateArgs>(async (t, opts, host) => {
  const available = propagationSnippets(t.language);
  let pattern = opts.pattern;
  if (pattern === undefined) {
    const picked = await vscode.window.showQuickPick(
      available.map((s) => ({
        label: s.title,
        description: s.library,
        detail: s.description,
        pattern: s.pattern,
      })),
      {
        title: 'Stagelight: Propagate Context',
        placeHolder: 'Carry the trace across a process or queue boundary',
        matchOnDescription: true,
      },
    );
    if (picked === undefined) return done('cancelled');
    pattern = picked.pattern;
  }
  const cursor = selectionOffsets(t).start;
  const result = await insertPropagation(
    t.scaffoldDoc.text,
    t.language,
    t.doc.fileName,
    cursor,
    pattern,
  );
  const lineStart = t.doc.offsetAt(new vscode.Position(t.doc.positionAt(cursor).line, 0));
  const split =
    result.status === 'edited' && result.snippet !== undefined
      ? snippetInsertion(result.edits, lineStart, result.snippet.offset, result.snippet.text)
      : undefined;
  if (split === undefined) return apply(t, result, host);
  return apply(t, result, host, (edit) => {
    const snippetEdit = vscode.SnippetTextEdit.insert(
      t.doc.positionAt(split.snippet.offset),
      new vscode.SnippetString(split.snippet.text),
    );
    // Inserted at column 0 with its own indentation: VS Code must not re-indent it.
    snippetEdit.keepWhitespace = true;
    edit.set(t.doc.uri, [
      ...split.edits.map((e) => vscode.TextEdit.replace(range(t.doc, e.start, e.end), e.newText)),
      snippetEdit,
    ]);
  });
});
