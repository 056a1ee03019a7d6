/**
 * The configuration an MCP client needs to start `stagelight mcp`: the JSON the editor's
 * "Copy MCP Server Configuration" command copies, in the shape VS Code's `.vscode/mcp.json`
 * reads (`servers`) and, for other clients (Claude Desktop, Cursor and the like), the
 * `mcpServers` shape.
 */

export interface McpLaunch {
  /** The program: `node`, or an editor's own runtime. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** How to start `stagelight mcp` from the CLI bundle at `cliPath`, answering from `apiUrl`. */
export function mcpLaunch(
  cliPath: string,
  apiUrl: string | undefined,
  command = 'node',
): McpLaunch {
  return { command, args: [cliPath, 'mcp', ...(apiUrl === undefined ? [] : ['--api', apiUrl])] };
}

/** The JSON to paste: `servers` (VS Code) and `mcpServers` (most other clients), two spaces. */
export function mcpConfigSnippet(launch: McpLaunch, shape: 'vscode' | 'generic'): string {
  const server = {
    ...(shape === 'vscode' ? { type: 'stdio' } : {}),
    command: launch.command,
    args: launch.args,
    ...(launch.env === undefined ? {} : { env: launch.env }),
  };
  const key = shape === 'vscode' ? 'servers' : 'mcpServers';
  return JSON.stringify({ [key]: { stagelight: server } }, null, 2);
}
