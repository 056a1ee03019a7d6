/**
 * Serves the harness page (plain Node, for the benchmark and the browser tests): the page, its
 * host stand-in (`harness.ts`, bundled here with esbuild), the webview bundle and, for live
 * runs, a Server-Sent Events stream of host messages. Loopback only.
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { HostMessage } from '../../src/protocol/messages.js';

// The project's TypeScript runs as CommonJS (tsx, and esbuild's cjs bundles), hence __dirname.
const here = __dirname;
const repo = path.resolve(here, '../..');

export interface HarnessServer {
  /** Base URL, e.g. http://127.0.0.1:PORT/ */
  readonly url: string;
  /** Sends a host message to every page connected with `live=1`. */
  broadcast(m: HostMessage): void;
  /** Number of pages connected to the live stream. */
  readonly liveClients: number;
  close(): Promise<void>;
}

export interface HarnessServerOptions {
  /**
   * 'dist': serve the built bundle from dist/webview (what ships; run the build first).
   * 'build': bundle webview/src/main.ts now, in memory, as esbuild.config.mjs does.
   */
  bundle: 'dist' | 'build';
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

async function bundle(entry: string, outName: string): Promise<Map<string, Uint8Array>> {
  const result = await esbuild.build({
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    entryPoints: { [outName]: entry },
    outdir: path.join(repo, 'dist'),
    loader: { '.ttf': 'file' },
    // As esbuild.config.mjs: fonts beside the bundle, in webview/.
    assetNames: 'webview/[name]-[hash]',
    write: false,
    logLevel: 'warning',
  });
  const files = new Map<string, Uint8Array>();
  for (const f of result.outputFiles) {
    files.set(
      '/' + path.relative(path.join(repo, 'dist'), f.path).split(path.sep).join('/'),
      f.contents,
    );
  }
  return files;
}

/** JSON for host messages: typed arrays as plain arrays (the harness revives them). */
function toJson(m: HostMessage): string {
  return JSON.stringify(m, (_k, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView)
      ? Array.from(v as unknown as ArrayLike<number>)
      : v,
  );
}

export async function startHarnessServer(opts: HarnessServerOptions): Promise<HarnessServer> {
  const files = await bundle(path.join(here, 'harness.ts'), 'harness');
  if (opts.bundle === 'build') {
    for (const [k, v] of await bundle(path.join(repo, 'webview/src/main.ts'), 'webview/waterfall'))
      files.set(k, v);
  }
  const page = await readFile(path.join(here, 'harness.html'), 'utf8');
  const theme = await readFile(path.join(here, 'harness-theme.css'));
  const clients = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const p = url.pathname;
      if (p === '/' || p === '/index.html') {
        const nonce = randomBytes(16).toString('base64');
        const themeClass =
          url.searchParams.get('theme') === 'light' ? 'vscode-light' : 'vscode-dark';
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end(page.replaceAll('{{nonce}}', nonce).replaceAll('{{themeClass}}', themeClass));
        return;
      }
      if (p === '/events') {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(': connected\n\n');
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      }
      if (p === '/harness-theme.css') {
        res.writeHead(200, { 'content-type': TYPES['.css'] as string });
        res.end(theme);
        return;
      }
      let body = files.get(p);
      if (body === undefined && opts.bundle === 'dist' && /^\/(webview\/)?[\w.-]+$/.test(p)) {
        try {
          body = await readFile(path.join(repo, 'dist', p));
        } catch {
          body = undefined;
        }
      }
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] ?? 'application/octet-stream' });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    broadcast(m) {
      const data = `data: ${toJson(m)}\n\n`;
      for (const c of clients) c.write(data);
    },
    get liveClients() {
      return clients.size;
    },
    async close() {
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
