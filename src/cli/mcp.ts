/**
 * `stagelight mcp`: the assistant tools (src/core/assistant/tools.ts) as a Model Context
 * Protocol server, on stdio (what MCP clients start) or on streamable HTTP on loopback. The
 * answers come from a running receiver's read API (`--api URL`) or from a receiver this command
 * embeds (its OTLP ports open for the pipeline to export to).
 *
 * The HTTP transport passes the same access policy as the read API (core/receiver/access.ts):
 * the Host check against DNS rebinding, and a bearer token, which it always requires (given with
 * --token or $STAGELIGHT_TOKEN, else generated and printed). It is stateless: each POST gets a
 * fresh server and transport, as the SDK does for servers that keep no session.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { TOOLS, TOOL_SHAPES, ToolInputError, runTool } from '../core/assistant/tools.js';
import {
  ReadApiClient,
  ReadApiError,
  type AssistantSource,
} from '../core/assistant/read-api-client.js';
import { AccessPolicy, generateToken } from '../core/receiver/access.js';
import { startServer, LOOPBACK, type RunningServer } from '../core/server.js';
import { sendError } from '../core/http/responses.js';

export const MCP_HELP = `mcp options:
  --api <url>               answer from the Stagelight receiver whose read API is here, e.g.
                            http://127.0.0.1:4318/api (with its --token, if it needs one).
                            Default: embed a receiver (OTLP on --grpc-port / --otlp-http-port)
  --grpc-port <n>           embedded receiver's OTLP/gRPC port (default 4317; 0 = any free)
  --otlp-http-port <n>      embedded receiver's OTLP/HTTP port (default 4318; 0 = any free)
  --http <port>             serve MCP over streamable HTTP at http://127.0.0.1:<port>/mcp
                            instead of stdio (0 = any free port); it requires the token
  --token <token>           the read API's token, and the one --http requires (default:
                            $STAGELIGHT_TOKEN; generated for --http when there is none)`;

export class McpUsageError extends Error {}

declare const STAGELIGHT_VERSION: string | undefined;
const VERSION = typeof STAGELIGHT_VERSION === 'string' ? STAGELIGHT_VERSION : '0.0.0-dev';

/** An MCP server with every assistant tool, answering from `source`. */
export function createMcpServer(source: AssistantSource): McpServer {
  const server = new McpServer({ name: 'stagelight', version: VERSION });
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: TOOL_SHAPES[tool.name],
        annotations: { readOnlyHint: true, openWorldHint: false, idempotentHint: true },
      },
      async (input: unknown) => {
        try {
          const r = await runTool(source, tool.name, input);
          return { content: [{ type: 'text' as const, text: r.text }] };
        } catch (e) {
          if (!(e instanceof ToolInputError) && !(e instanceof ReadApiError)) throw e;
          return { content: [{ type: 'text' as const, text: e.message }], isError: true };
        }
      },
    );
  }
  return server;
}

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new McpUsageError(`--${flag} must be an integer from 0 to 65535, got "${value}"`);
  }
  return n;
}

/** Serves MCP over streamable HTTP on loopback; resolves with the server once listening. */
export async function serveMcpHttp(
  source: AssistantSource,
  opts: { port: number; token: string },
): Promise<http.Server> {
  const policy = new AccessPolicy({ bindHost: LOOPBACK, token: opts.token });
  const server = http.createServer((req, res) => {
    const denial =
      policy.checkHost(req.headers.host) ?? policy.checkToken(req.headers.authorization, 'read');
    if (denial !== undefined) {
      req.resume();
      sendError(res, denial.status, denial.message);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/mcp') {
      req.resume();
      sendError(res, 404, `no route for ${path}; MCP is served at /mcp`);
      return;
    }
    // Stateless: no session, so no server-initiated stream to open (GET) or end (DELETE).
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      sendError(
        res,
        405,
        `method ${req.method} not allowed on /mcp; this server keeps no sessions`,
      );
      return;
    }
    const mcp = createMcpServer(source);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    mcp
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch((e: unknown) => sendError(res, 500, (e as Error).message));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, LOOPBACK, () => resolve());
  });
  return server;
}

/** Runs `stagelight mcp`; resolves with the exit code once the client or a signal ends it. */
export async function mcpCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      api: { type: 'string' },
      'grpc-port': { type: 'string' },
      'otlp-http-port': { type: 'string' },
      http: { type: 'string' },
      token: { type: 'string' },
    },
  });
  const httpPort = port(values.http, 'http');
  if (values.api !== undefined && (values['grpc-port'] ?? values['otlp-http-port']) !== undefined) {
    throw new McpUsageError(
      '--grpc-port and --otlp-http-port are for the embedded receiver, not --api',
    );
  }
  const envToken = process.env.STAGELIGHT_TOKEN;
  const given = values.token ?? (envToken === '' ? undefined : envToken);
  if (given !== undefined && !/^[\x21-\x7e]+$/.test(given)) {
    throw new McpUsageError('the token must be printable ASCII without spaces');
  }
  // Stdout carries the protocol on stdio: everything for people goes to stderr.
  const say = (m: string) => process.stderr.write(`${m}\n`);
  let embedded: RunningServer | undefined;
  let apiUrl = values.api;
  if (apiUrl === undefined) {
    embedded = await startServer({
      grpcPort: port(values['grpc-port'], 'grpc-port'),
      httpPort: port(values['otlp-http-port'], 'otlp-http-port'),
      accessToken: given,
      version: VERSION,
      log: { info: () => {}, warn: (m) => say(`warning: ${m}`), error: (m) => say(`error: ${m}`) },
    });
    apiUrl = embedded.endpoints.api;
    say(
      `Stagelight ${VERSION} MCP server with an embedded receiver: ` +
        `OTEL_EXPORTER_OTLP_ENDPOINT=${embedded.endpoints.grpc} (gRPC) or ${embedded.endpoints.http} (HTTP)`,
    );
  }
  let source: AssistantSource;
  try {
    source = new ReadApiClient({ url: apiUrl, token: given });
  } catch (e) {
    await embedded?.close();
    throw new McpUsageError((e as Error).message);
  }
  const closers: Array<() => Promise<void>> = [];
  if (embedded !== undefined) closers.push(() => embedded.close());
  const done = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      for (const c of closers.reverse()) await c().catch(() => {});
      resolve(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    if (httpPort === undefined) {
      const mcp = createMcpServer(source);
      const transport = new StdioServerTransport();
      // The client closing stdin ends the session, and this command.
      transport.onclose = () => void stop();
      process.stdin.once('end', () => void stop());
      closers.unshift(() => mcp.close());
      void mcp.connect(transport);
    }
  });
  if (httpPort !== undefined) {
    const token = given ?? generateToken();
    const server = await serveMcpHttp(source, { port: httpPort, token });
    closers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const addr = server.address();
    const actual = typeof addr === 'object' && addr !== null ? addr.port : httpPort;
    say(`MCP (streamable HTTP): http://${LOOPBACK}:${actual}/mcp`);
    say(
      given === undefined
        ? `  Access token: ${token} (generated; send "Authorization: Bearer <token>")`
        : '  It requires the access token, as "Authorization: Bearer <token>".',
    );
  }
  return done;
}
