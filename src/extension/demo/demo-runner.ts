/**
 * `Stagelight: Run Demo Pipeline` and `Stagelight: Open Demo Source`.
 *
 * The demo runs as a child process (`dist/cli.js demo`), exporting to this window's receiver:
 * its model runners are native and CPU-heavy, and a crash must not take the extension host
 * with it. In VS Code `process.execPath` is the Electron binary; `ELECTRON_RUN_AS_NODE=1` makes
 * it behave as Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findSpanStarts } from '../../core/source/span-starts.js';
import { COMMANDS } from '../shared/commands.js';
import { demoDevice } from '../shared/config.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import { SCENARIO_NAMES, SCENARIOS } from '../../../demo/scenarios.js';

/** The demo's scenarios, as its `--scenario` option names them. */
/** The scenarios as the picker offers them; named and described once, in demo/scenarios.ts. */
export const DEMO_SCENARIOS: ReadonlyArray<{ id: string; label: string; detail: string }> =
  SCENARIO_NAMES.map((id) => ({
    id,
    label: SCENARIOS[id].label,
    detail: SCENARIOS[id].description,
  }));

/** Most stderr kept for the crash report. */
const STDERR_TAIL = 4000;

export class DemoRunner implements vscode.Disposable {
  private child: ChildProcess | undefined;
  /** Set by `stop()`: the run that ends is reported as stopped, not as failed. */
  private stopRequested = false;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly storageDir: string,
    private readonly receiver: ReceiverController,
    private readonly log: vscode.LogOutputChannel,
    private readonly showWaterfall: () => Promise<void>,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Asks for a scenario (unless given) and runs the demo against the receiver. */
  async run(scenario?: string): Promise<void> {
    if (this.child !== undefined) {
      void vscode.window.showInformationMessage('Stagelight: the demo is already running.');
      return;
    }
    let id = scenario;
    if (id === undefined || !DEMO_SCENARIOS.some((s) => s.id === id)) {
      const pick = await vscode.window.showQuickPick(
        DEMO_SCENARIOS.map((s) => ({
          label: s.label,
          description: s.id,
          detail: s.detail,
          id: s.id,
        })),
        {
          title: 'Stagelight demo: pick a scenario',
          placeHolder:
            'The models are small synthetic networks: their latency is real, their outputs are not meaningful',
        },
      );
      if (pick === undefined) return;
      id = pick.id;
    }
    const server = await this.receiver.start();
    const cli = vscode.Uri.joinPath(this.extensionUri, 'dist', 'cli.js').fsPath;
    if (!fs.existsSync(cli)) {
      void vscode.window.showErrorMessage(`Stagelight: the demo is missing (${cli} not found).`);
      return;
    }
    await fs.promises.mkdir(this.storageDir, { recursive: true });
    const args = [
      cli,
      'demo',
      '--scenario',
      id,
      '--endpoint',
      server.endpoints.grpc,
      // The read API of the same receiver: the demo prints its per-stage table from it.
      '--api',
      server.endpoints.api,
      '--device',
      demoDevice(),
    ];
    this.log.info(`demo: ${process.execPath} ${args.join(' ')}`);
    const child = spawn(process.execPath, args, {
      cwd: this.storageDir,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so Stop can end the demo and everything it started.
      detached: process.platform !== 'win32',
    });
    this.child = child;
    void this.showWaterfall();

    let stderr = '';
    let lastLine = '';
    const exited = new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      error?: Error;
    }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    let stopped = false;
    this.stopRequested = false;
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Stagelight demo (${id})`,
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => {
          stopped = true;
          this.stop();
        });
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
          for (const line of chunk.split('\n')) {
            const t = line.trim();
            if (t === '') continue;
            this.log.info(`demo: ${t}`);
            lastLine = t;
          }
          progress.report({ message: lastLine.slice(0, 120) });
        });
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
          stderr = (stderr + chunk).slice(-STDERR_TAIL);
          for (const line of chunk.split('\n'))
            if (line.trim() !== '') this.log.warn(`demo: ${line}`);
        });
        progress.report({ message: 'starting the model runners…' });
        return exited;
      },
    );
    this.child = undefined;
    // Stopped from the command, not only from the progress notification's Cancel.
    stopped ||= this.stopRequested;
    if (result.error !== undefined) {
      void vscode.window.showErrorMessage(
        `Stagelight: the demo could not start: ${result.error.message}`,
      );
    } else if (!stopped && result.code !== 0) {
      const status = String(result.code ?? result.signal);
      const tail = stderr.trim().split('\n').slice(-6).join('\n') || `exit status ${status}`;
      void vscode.window
        .showErrorMessage(
          `Stagelight: the demo failed (${status}); traces already received are kept. ${tail}`,
          'Show Output',
        )
        .then((pick) => {
          if (pick === 'Show Output') this.log.show(true);
        });
    } else if (stopped) {
      void vscode.window.showInformationMessage(
        `Stagelight demo (${id}) stopped; the traces it sent are kept.`,
      );
    } else {
      void vscode.window
        .showInformationMessage(`Stagelight demo (${id}) finished. ${lastLine}`, 'Open Demo Source')
        .then((p) => {
          if (p === 'Open Demo Source')
            void vscode.commands.executeCommand(COMMANDS.openDemoSource);
        });
    }
  }

  /** Stops the demo: SIGINT to its process group (it stops its runners), SIGKILL if it lingers. */
  stop(): void {
    const child = this.child;
    if (child === undefined || child.pid === undefined) return;
    this.stopRequested = true;
    const pid = child.pid;
    const signal = (sig: NodeJS.Signals): void => {
      try {
        if (process.platform !== 'win32') process.kill(-pid, sig);
        else child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    signal('SIGINT');
    const timer = setTimeout(() => signal('SIGKILL'), 5000);
    child.once('exit', () => clearTimeout(timer));
  }

  dispose(): void {
    this.stop();
  }
}

/**
 * The demo's stage source: the `.ts` file under the extension's `demo/` with the most
 * span-start calls (the gateway that starts every stage), so the lenses show on it.
 */
export async function openDemoSource(extensionUri: vscode.Uri): Promise<void> {
  const root = vscode.Uri.joinPath(extensionUri, 'demo').fsPath;
  let best: { file: string; count: number } | undefined;
  for (const file of listTs(root)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const count = new Set(findSpanStarts(text, 'typescript').map((s) => s.name)).size;
    if (count > 0 && (best === undefined || count > best.count)) best = { file, count };
  }
  if (best === undefined) {
    void vscode.window.showErrorMessage(`Stagelight: no demo source found under ${root}.`);
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(best.file));
  await vscode.window.showTextDocument(doc, { preview: false });
}

function listTs(dir: string, depth = 0): string[] {
  if (depth > 4) return [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p, depth + 1));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}
