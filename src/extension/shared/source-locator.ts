/**
 * Where spans start in the source, for "Go to source" and the lenses: the `code.*` locations of
 * received spans (a `CodeLocationIndex` fed from the engine's changes) and the span-start lines
 * the lens provider matched in open documents. Resolves a span's file to a workspace file (or
 * to the extension's own demo sources) and reveals the line.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CodeLocationIndex, normalizePath, pathsMatch } from '../../core/source/code-locations.js';
import { attributeValue } from '../../core/otlp/span-details.js';
import type { SpanRecord } from '../../core/model.js';
import { stageKey, type StageKey } from '../../shared/stage-key.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';

function safeAttribute(span: SpanRecord, key: string): string | number | boolean | undefined {
  try {
    return attributeValue(span, key);
  } catch {
    return undefined;
  }
}

export class SourceLocator implements vscode.Disposable {
  readonly locations = new CodeLocationIndex();
  /** Stage key -> a matched span-start line in an open document. */
  private readonly matched = new Map<StageKey, { file: string; line: number }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly receiver: ReceiverController,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.disposables.push(
      receiver.onDidChangeTraces((c) => {
        if (c.cleared) this.locations.clear();
        for (const id of c.added) this.read(id);
        for (const id of c.updated) this.read(id);
      }),
    );
  }

  /** Reads the `code.*` attributes of a trace's spans not read yet. */
  private read(traceId: string): void {
    const t = this.receiver.engine?.store.get(traceId);
    if (t !== undefined) this.locations.addTrace(t, safeAttribute);
  }

  /** Notes a matched span-start line (0-based) of a document, for spans without `code.*`. */
  noteMatched(service: string, name: string, file: string, line0: number): void {
    this.matched.set(stageKey(service, name), { file, line: line0 + 1 });
  }

  /** A known start line (1-based) of a stage: from received `code.*`, else a matched line. */
  knownLocation(service: string, name: string): { file: string; line: number } | undefined {
    const p = this.locations.primary(service, name);
    if (p !== undefined) return { file: p.file, line: p.line };
    return this.matched.get(stageKey(service, name));
  }

  /** Opens the source of a span: its own `code.*` location, else what is known of its stage. */
  async reveal(
    service: string,
    name: string,
    source?: { file: string; line: number },
  ): Promise<void> {
    const loc = source ?? this.knownLocation(service, name);
    if (loc === undefined) {
      void vscode.window.showInformationMessage(
        `Stagelight: no source location is known for span "${name}" (${service}). Spans carry one with the code.file.path and code.line.number attributes.`,
      );
      return;
    }
    const uri = await this.resolve(loc.file);
    if (uri === undefined) {
      void vscode.window.showWarningMessage(
        `Stagelight: span "${name}" starts in ${loc.file}:${loc.line}, which is not in this workspace.`,
      );
      return;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = Math.max(0, Math.min(doc.lineCount - 1, loc.line - 1));
    const range = new vscode.Range(line, 0, line, 0);
    await vscode.window.showTextDocument(doc, { selection: range, preview: false });
  }

  /** A local file for a path reported by a span, possibly from another machine or checkout. */
  async resolve(file: string): Promise<vscode.Uri | undefined> {
    const norm = normalizePath(file);
    if (fs.existsSync(norm)) return vscode.Uri.file(norm);
    // The extension's own files (the bundled demo): try each suffix of the path under it.
    const parts = norm.split('/').filter((p) => p !== '');
    for (let i = 0; i < parts.length - 1; i++) {
      const candidate = vscode.Uri.joinPath(this.extensionUri, ...parts.slice(i));
      if (parts.length - i >= 2 && fs.existsSync(candidate.fsPath)) return candidate;
    }
    const base = parts[parts.length - 1];
    if (base === undefined || vscode.workspace.workspaceFolders === undefined) return undefined;
    const found = await vscode.workspace.findFiles(`**/${base}`, '**/node_modules/**', 50);
    const matching = found.filter((u) => pathsMatch(norm, normalizePath(u.fsPath)));
    if (matching.length === 1) return matching[0];
    if (matching.length > 1) {
      const pick = await vscode.window.showQuickPick(
        matching.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
        { title: `Which ${base}?` },
      );
      return pick?.uri;
    }
    return undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
