/** Shared helpers of the extension-host specs. Runs inside VS Code; imports `vscode`. */
import * as vscode from 'vscode';
import type { StagelightApi } from '../../src/extension/extension';

/** The Stagelight extension's id (`publisher.name` of the root package.json). */
export const STAGELIGHT_ID = 'stagelight.stagelight';

/** The installed Stagelight extension; fails naming the id when it is not installed. */
export function stagelightExtension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(STAGELIGHT_ID);
  if (!ext) {
    const ids = vscode.extensions.all
      .map((e) => e.id)
      .filter((id) => !id.startsWith('vscode.'))
      .join(', ');
    throw new Error(`extension ${STAGELIGHT_ID} is not installed (non-builtin: ${ids || 'none'})`);
  }
  return ext;
}

/**
 * Activates Stagelight (idempotent) and returns the API `activate` returns for tests, checking
 * its shape so that a changed API fails here, naming what is missing.
 */
export async function activateStagelight(): Promise<StagelightApi> {
  const ext = stagelightExtension();
  const api: unknown = ext.isActive ? ext.exports : await ext.activate();
  const receiver = (api as { receiver?: unknown } | undefined)?.receiver;
  if (typeof receiver !== 'object' || receiver === null || !('state' in receiver)) {
    throw new Error('activate() did not return { receiver, activationMs } (StagelightApi)');
  }
  return api as StagelightApi;
}

/** Starts the receiver with its command and returns its gRPC endpoint. */
export async function startReceiver(): Promise<{ api: StagelightApi; grpc: string }> {
  const api = await activateStagelight();
  // Not awaited: the command shows a notification, and its promise waits for the user.
  void vscode.commands.executeCommand('stagelight.startReceiver');
  const grpc = await waitFor('the receiver to run', () =>
    api.receiver.state === 'running' ? api.receiver.endpoints?.grpc : undefined,
  );
  return { api, grpc };
}

/** Opens a file of the fixture workspace (relative to the workspace root). */
export async function openFixture(relativePath: string): Promise<vscode.TextDocument> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder open (the runner opens the fixture workspace)');
  const doc = await vscode.workspace.openTextDocument(
    vscode.Uri.joinPath(folder.uri, relativePath),
  );
  await vscode.window.showTextDocument(doc);
  return doc;
}

/** The 0-based line of the first line of `doc` containing `text`; fails naming it. */
export function lineOf(doc: vscode.TextDocument, text: string): number {
  for (let i = 0; i < doc.lineCount; i++) if (doc.lineAt(i).text.includes(text)) return i;
  throw new Error(`${doc.uri.path} has no line containing ${text}`);
}

/** The titles of the Stagelight lenses on `doc`, by 0-based line. */
export async function stagelightLenses(doc: vscode.TextDocument): Promise<Map<number, string[]>> {
  const lenses =
    (await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
      // Resolve every lens so titles are filled in.
      1000,
    )) ?? [];
  const byLine = new Map<number, string[]>();
  for (const lens of lenses) {
    const cmd = lens.command;
    if (!cmd || !cmd.command.startsWith('stagelight.')) continue;
    const list = byLine.get(lens.range.start.line) ?? [];
    list.push(cmd.title);
    byLine.set(lens.range.start.line, list);
  }
  return byLine;
}

/** A command contributed in Stagelight's package.json. */
export interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

/** The `contributes.commands` of the installed Stagelight package.json. */
export function contributedCommands(): ContributedCommand[] {
  const pkg: unknown = stagelightExtension().packageJSON;
  const list = (pkg as { contributes?: { commands?: unknown } }).contributes?.commands;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is ContributedCommand =>
      typeof c === 'object' &&
      c !== null &&
      typeof (c as ContributedCommand).command === 'string' &&
      typeof (c as ContributedCommand).title === 'string',
  );
}

/** Finds the contributed command whose title (without category) matches, or fails naming it. */
export function commandTitled(title: RegExp): ContributedCommand {
  const all = contributedCommands();
  const found = all.find((c) => title.test(c.title));
  if (!found) {
    throw new Error(
      `no contributed command titled ${title} (have: ${all.map((c) => c.title).join(', ') || 'none'})`,
    );
  }
  return found;
}

/** Polls `check` until it returns something other than undefined, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
