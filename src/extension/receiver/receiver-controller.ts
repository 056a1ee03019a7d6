/**
 * The receiver inside the extension host: the core server (engine, OTLP/gRPC and OTLP/HTTP
 * listeners, read API) on 127.0.0.1, started and stopped on demand. The core is loaded with
 * `import()` on first start, so activation does not pay for it.
 *
 * Persistence: spans go to `spans.log` in the extension's global storage, so a window reload
 * keeps the traces. Global storage is shared by all windows, and the log has one writer at a
 * time: a lock file names the owning process, and a second window receives without persisting
 * (and says so) rather than corrupting the first one's log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunningServer } from '../../core/server.js';
import type { TraceEngine, EngineChange } from '../../core/engine.js';
import { receiverSettings, lensSettings } from '../shared/config.js';
import { copyEndpoint } from './copy-endpoint.js';
import { loadCore } from './load-core.js';
import { formatCount } from '../../shared/format.js';

export type ReceiverState = 'stopped' | 'starting' | 'running' | 'stopping';

const LOCK_FILE = 'receiver.lock';

declare const STAGELIGHT_VERSION: string | undefined;

export class ReceiverController implements vscode.Disposable {
  private _state: ReceiverState = 'stopped';
  private server: RunningServer | undefined;
  private starting: Promise<RunningServer> | undefined;
  private unsubscribe: (() => void) | undefined;
  private lockPath: string | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<ReceiverState>();
  private readonly changeEmitter = new vscode.EventEmitter<EngineChange>();
  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** The engine's coalesced changes, forwarded (and a `cleared` one when the receiver stops). */
  readonly onDidChangeTraces = this.changeEmitter.event;

  constructor(
    private readonly storageDir: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get state(): ReceiverState {
    return this._state;
  }

  /** The engine while running. */
  get engine(): TraceEngine | undefined {
    return this.server?.engine;
  }

  get endpoints(): RunningServer['endpoints'] | undefined {
    return this.server?.endpoints;
  }

  get ports(): { grpc: number; http: number } | undefined {
    const s = this.server;
    return s === undefined ? undefined : { grpc: s.grpc.port, http: s.http.port };
  }

  private setState(s: ReceiverState): void {
    this._state = s;
    this.stateEmitter.fire(s);
  }

  /** Starts the receiver unless it runs; resolves with the running server. */
  async start(): Promise<RunningServer> {
    if (this.server !== undefined) return this.server;
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<RunningServer> {
    this.setState('starting');
    const settings = receiverSettings();
    const t0 = performance.now();
    try {
      const { startServer, forwardUrl } = loadCore();
      await fs.promises.mkdir(this.storageDir, { recursive: true });
      const dataDir = this.takeLock() ? this.storageDir : undefined;
      if (dataDir === undefined) {
        this.log.warn(
          'Another VS Code window persists Stagelight traces; this window keeps its traces in memory only.',
        );
      }
      let forward: string | undefined = settings.forwardUrl || undefined;
      if (forward !== undefined) {
        try {
          forwardUrl(forward);
        } catch {
          // Receiving matters more than forwarding: start without it, and say why.
          const text = `stagelight.receiver.forwardUrl must be an http(s) URL, got "${forward}"; receiving without forwarding.`;
          this.log.error(text);
          void vscode.window.showWarningMessage(`Stagelight: ${text}`);
          forward = undefined;
        }
      }
      const server = await startServer({
        host: '127.0.0.1',
        forwardUrl: forward,
        grpcPort: settings.grpcPort,
        httpPort: settings.httpPort,
        maxSpans: settings.maxSpans,
        maxMemoryBytes: settings.maxMemoryMiB * 1024 * 1024,
        dataDir,
        statsWindowMs: lensSettings().windowMinutes * 60_000,
        version: typeof STAGELIGHT_VERSION === 'string' ? STAGELIGHT_VERSION : '0.0.0-dev',
        log: {
          info: (m) => this.log.info(m),
          warn: (m) => this.log.warn(m),
          error: (m) => this.log.error(m),
        },
      });
      this.server = server;
      this.unsubscribe = server.engine.onChange((c) => this.changeEmitter.fire(c));
      const replay = server.engine.replayReport;
      this.log.info(
        `Receiver started in ${Math.round(performance.now() - t0)} ms: OTLP/gRPC ${server.endpoints.grpc}, ` +
          `OTLP/HTTP ${server.endpoints.httpTraces}, read API ${server.endpoints.api}` +
          (replay !== undefined
            ? `; ${formatCount(server.engine.store.spanCount, 'span')} restored`
            : ''),
      );
      this.setState('running');
      this.reportMovedPorts(settings.grpcPort, settings.httpPort);
      if (server.engine.store.spanCount > 0) {
        this.changeEmitter.fire({
          added: [...server.engine.store.all()].map((t) => t.traceId),
          updated: [],
          evicted: [],
          cleared: false,
          statsUpdated: true,
        });
      }
      return server;
    } catch (e) {
      this.releaseLock();
      this.setState('stopped');
      const message = (e as Error).message;
      this.log.error(`Receiver failed to start: ${message}`);
      throw e;
    }
  }

  /** A taken port moved the listener: tell the user which endpoint to use instead. */
  private reportMovedPorts(grpcWanted: number, httpWanted: number): void {
    const s = this.server;
    if (s === undefined) return;
    const moved: string[] = [];
    if (grpcWanted !== 0 && s.grpc.port !== grpcWanted) {
      moved.push(
        `OTLP/gRPC port ${grpcWanted} is in use, so Stagelight receives on ${s.grpc.port}`,
      );
    }
    if (httpWanted !== 0 && s.http.port !== httpWanted) {
      moved.push(`OTLP/HTTP port ${httpWanted} is in use, so it listens on ${s.http.port}`);
    }
    if (moved.length === 0) return;
    const text =
      `Stagelight: ${moved.join('; ')}. Point your exporter at ${s.endpoints.grpc} (gRPC) ` +
      `or ${s.endpoints.http} (HTTP).`;
    void vscode.window
      .showWarningMessage(text, 'Copy gRPC Endpoint', 'Copy HTTP Endpoint')
      .then((pick) => {
        if (pick === 'Copy gRPC Endpoint') void copyEndpoint('grpc', s.endpoints);
        if (pick === 'Copy HTTP Endpoint') void copyEndpoint('http', s.endpoints);
      });
  }

  async stop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    const s = this.server;
    if (s === undefined) return;
    this.setState('stopping');
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.server = undefined;
    try {
      await s.close();
    } finally {
      this.releaseLock();
      this.log.info('Receiver stopped.');
      this.setState('stopped');
    }
  }

  /**
   * Takes the persistence lock: creates the lock file with this process id, or takes over one
   * whose process is gone. False when a live process holds it.
   */
  private takeLock(): boolean {
    const file = path.join(this.storageDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        this.lockPath = file;
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
        const pid = Number(fs.readFileSync(file, 'utf8').trim());
        if (pid === process.pid || !isAlive(pid)) {
          fs.rmSync(file, { force: true });
          continue;
        }
        return false;
      }
    }
    return false;
  }

  private releaseLock(): void {
    if (this.lockPath === undefined) return;
    try {
      fs.rmSync(this.lockPath, { force: true });
    } catch {
      // Best effort: a stale lock is taken over by the next start anyway.
    }
    this.lockPath = undefined;
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.changeEmitter.dispose();
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
