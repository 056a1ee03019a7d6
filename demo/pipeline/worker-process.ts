/**
 * The gateway's handle on one worker process (a model runner replica or the retrieval worker):
 * fork, wait until ready, send requests and match replies by id, stop. A worker that dies fails
 * its outstanding requests at once, with the tail of its stderr.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type {
  ConfigureMessage,
  FromWorker,
  InferRequest,
  ReadyMessage,
  ResultMessage,
  SearchRequest,
  ToWorker,
} from '../protocol.js';
import type { MessageHeaders } from '../telemetry/tracing.js';

/** A request as the gateway writes it: the message and its trace context headers. */
export type WorkerRequest = (InferRequest | SearchRequest) & { readonly headers: MessageHeaders };

/** Raised when a worker does not answer before the request's deadline. */
export class WorkerTimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Raised when a worker fails a request; `code` says why. */
export class WorkerRequestError extends Error {
  override name = 'WorkerError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * The folder of the bundled worker entries (dist/demo). Found from this module's own location,
 * which is dist/ when bundled (the CLI, the extension) and demo/pipeline/ when run from source.
 */
export function findDemoBundleDir(explicit?: string): string {
  if (explicit !== undefined) return explicit;
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    for (const c of [path.join(dir, 'demo'), path.join(dir, 'dist', 'demo')]) {
      if (existsSync(path.join(c, 'model-runner.js'))) return c;
    }
    dir = path.dirname(dir);
  }
  throw new Error(
    `cannot find the demo's worker bundles (dist/demo/model-runner.js) near ${__dirname}; run "npm run build"`,
  );
}

export class WorkerProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: ResultMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private stderrTail = '';
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  /** Filled when the worker reports ready. */
  ready: ReadyMessage | undefined;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly config: unknown,
  ) {}

  /** Forks the worker and resolves once it is ready (rejects with its stderr when it fails). */
  start(timeoutMs = 120_000): Promise<ReadyMessage> {
    const child = fork(this.entry, [JSON.stringify(this.config)], {
      execPath: process.execPath,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Workers inherit no debugger/tsx flags: they are plain bundles.
      execArgv: [],
    });
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${this.name} did not start within ${timeoutMs / 1000} s${this.stderrSuffix()}`,
          ),
        );
      }, timeoutMs);
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.ready = m;
          resolve(m);
        } else if (m.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`${this.name} failed to start: ${m.error}${this.stderrSuffix()}`));
        } else if (m.type === 'result') {
          const p = this.pending.get(m.id);
          if (p === undefined) return; // Answered after its deadline: already failed.
          this.pending.delete(m.id);
          clearTimeout(p.timer);
          if (m.ok) p.resolve(m);
          else if (m.code === 'DEADLINE_EXCEEDED')
            p.reject(new WorkerTimeoutError(`${this.name}: ${m.error}`));
          else
            p.reject(
              new WorkerRequestError(`${this.name}: ${m.error ?? 'failed'}`, m.code ?? 'INTERNAL'),
            );
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} could not be started: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.exitInfo = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
        const err = new Error(`${this.name} ${this.exitInfo}${this.stderrSuffix()}`);
        reject(err);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.pending.clear();
      });
    });
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trim();
    return tail === '' ? '' : `\n--- ${this.name} stderr ---\n${tail}`;
  }

  get alive(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Sends a request; rejects when the worker fails it, dies, or misses the deadline. */
  request(body: WorkerRequest, deadline: number): Promise<ResultMessage> {
    const child = this.child;
    if (child === undefined || !this.alive) {
      return Promise.reject(
        new Error(`${this.name} is not running (${this.exitInfo ?? 'not started'})`),
      );
    }
    const id = this.nextId++;
    return new Promise<ResultMessage>((resolve, reject) => {
      // A little grace after the deadline: the worker's own deadline error, when it comes,
      // says more than ours.
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          reject(new WorkerTimeoutError(`${this.name} did not answer before the deadline`));
        },
        Math.max(0, deadline - Date.now()) + 250,
      );
      this.pending.set(id, { resolve, reject, timer });
      child.send({ ...body, id, deadline } as ToWorker);
    });
  }

  /** Changes the worker's behaviour for the requests sent after this. */
  configure(msg: ConfigureMessage): void {
    if (this.child !== undefined && this.alive) this.child.send(msg satisfies ToWorker);
  }

  /** Asks the worker to flush its spans and exit; kills it if it has not within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.alive) return;
    try {
      child.send({ type: 'shutdown' } satisfies ToWorker);
    } catch {
      // The channel is already closed: the kill below ends it.
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Ends the process now (Ctrl-C twice, failures during start). */
  kill(): void {
    if (this.alive) this.child?.kill('SIGKILL');
  }
}
