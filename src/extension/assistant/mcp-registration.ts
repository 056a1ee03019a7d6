/**
 * Offers `stagelight mcp` to MCP clients: a command that copies the client configuration (for
 * `.vscode/mcp.json` or another client's settings), and, where the editor has it, the MCP server
 * definition provider API, so VS Code lists the server itself. That API is newer than the
 * VS Code version this extension targets (1.100), so it is looked up at run time.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { mcpConfigSnippet, mcpLaunch } from '../../core/assistant/mcp-config.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { COMMANDS } from '../shared/commands.js';

const PROVIDER_ID = 'stagelight.mcp';

/** The parts of the MCP server definition API used here (VS Code 1.101 and later). */
interface McpApi {
  registerMcpServerDefinitionProvider(
    id: string,
    provider: {
      onDidChangeMcpServerDefinitions?: vscode.Event<void>;
      provideMcpServerDefinitions(): unknown[];
    },
  ): vscode.Disposable;
}
type StdioDefinition = new (
  label: string,
  command: string,
  args?: string[],
  env?: Record<string, string>,
  version?: string,
) => unknown;

export function registerMcp(
  receiver: ReceiverController,
  extensionUri: vscode.Uri,
  log: vscode.LogOutputChannel,
): vscode.Disposable[] {
  const cli = path.join(extensionUri.fsPath, 'dist', 'cli.js');
  const disposables: vscode.Disposable[] = [
    vscode.commands.registerCommand(COMMANDS.copyMcpConfig, async () => {
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'VS Code (.vscode/mcp.json)', shape: 'vscode' as const },
          { label: 'Other MCP clients ("mcpServers")', shape: 'generic' as const },
        ],
        { title: 'Stagelight: MCP server configuration for' },
      );
      if (pick === undefined) return;
      const api = receiver.endpoints?.api;
      await vscode.env.clipboard.writeText(mcpConfigSnippet(mcpLaunch(cli, api), pick.shape));
      void vscode.window.showInformationMessage(
        api === undefined
          ? 'Stagelight: MCP configuration copied. It starts its own receiver (ports 4317/4318); start the receiver here first to have it answer from this window instead.'
          : `Stagelight: MCP configuration copied. It answers from this window's receiver (${api}) while it runs.`,
      );
    }),
  ];
  const lm = vscode.lm as unknown as Partial<McpApi>;
  const Definition = (vscode as unknown as { McpStdioServerDefinition?: StdioDefinition })
    .McpStdioServerDefinition;
  if (typeof lm.registerMcpServerDefinitionProvider === 'function' && Definition !== undefined) {
    const changed = new vscode.EventEmitter<void>();
    try {
      disposables.push(
        lm.registerMcpServerDefinitionProvider(PROVIDER_ID, {
          onDidChangeMcpServerDefinitions: changed.event,
          provideMcpServerDefinitions: () => {
            // The editor's own runtime runs the CLI bundle: no Node install needed.
            const launch = mcpLaunch(cli, receiver.endpoints?.api, process.execPath);
            return [
              new Definition('Stagelight', launch.command, [...launch.args], {
                ELECTRON_RUN_AS_NODE: '1',
              }),
            ];
          },
        }),
        changed,
        receiver.onDidChangeState(() => changed.fire()),
      );
    } catch (e) {
      // Editors before the stable API (1.101) may have an earlier form of it that wants other
      // package.json declarations: the copied configuration still works there.
      changed.dispose();
      log.info(`MCP server definitions not offered to this editor: ${(e as Error).message}`);
    }
  }
  return disposables;
}
