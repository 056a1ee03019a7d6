/** `node dist/cli.js serve ...` as a child process, for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './server.js';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

/** Children still running, so an `after` hook can kill what a failed test left. */
export const runningClis = new Set<ChildProcess>();

export function startCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningClis.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      runningClis.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Starts `serve` on free ports with `args` and waits until it prints its HTTP endpoint. */
export async function serveCli(args: string[]): Promise<{ cli: CliProcess; http: string }> {
  const cli = startCli(['serve', '--grpc-port', '0', '--http-port', '0', ...args]);
  let exited = false;
  void cli.exited.then(() => (exited = true));
  const http = await waitFor(
    () => {
      if (exited) throw new Error(`serve exited at start:\n${cli.stdout()}\n${cli.stderr()}`);
      return /OTEL_EXPORTER_OTLP_ENDPOINT=(http:\/\/\S+)\s+\(HTTP/.exec(cli.stdout())?.[1];
    },
    10_000,
    'serve to print its endpoints',
  );
  return { cli, http };
}
