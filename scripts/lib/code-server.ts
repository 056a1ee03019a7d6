/**
 * code-server for the test layers: installed on demand into `.cache/code-server`, started on a
 * free loopback port with its own extensions and user-data folders, and always stopped together
 * with every process it started.
 *
 * Why code-server: it is a real VS Code (1.100.3 in code-server 4.100.3) installable from the npm
 * registry, where @vscode/test-electron and @vscode/test-web cannot download VS Code. 4.100.3 is
 * the newest release that runs on Node 20.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeServerCacheDir, runsDir } from './paths.js';
import {
  codeServerInstallPrerequisites,
  findOnPath,
  requirePrerequisites,
} from './prerequisites.js';
import { descendantsOf, endProcesses, isAlive, sleep } from './processes.js';

export const CODE_SERVER_VERSION = '4.100.3';
/** The @vscode/ripgrep that code-server 4.100.3 depends on, and the ripgrep build it fetches. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

const entryScript = join(
  codeServerCacheDir,
  'node_modules',
  'code-server',
  'out',
  'node',
  'entry.js',
);
/** Written only after a complete install, so a half-finished one is redone. */
const installedMarker = join(codeServerCacheDir, '.installed');

/** The settings that keep the Welcome page and trust prompts from stealing focus. */
export const quietWorkbenchSettings: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'terminal.integrated.gpuAcceleration': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
};

export function codeServerInstalled(): boolean {
  return (
    existsSync(entryScript) &&
    existsSync(installedMarker) &&
    readFileSync(installedMarker, 'utf8').trim() === CODE_SERVER_VERSION
  );
}

/**
 * Installs code-server into `.cache/code-server` unless it is there already (about a minute,
 * 300 MB). Offline apart from the npm registry: @vscode/ripgrep's download cache is filled from
 * Debian's `rg` first, so its postinstall does not go to GitHub.
 */
export function ensureCodeServer(log: (line: string) => void = console.log): void {
  if (codeServerInstalled()) return;
  requirePrerequisites(
    codeServerInstallPrerequisites,
    `Installing code-server ${CODE_SERVER_VERSION}`,
  );
  fillRipgrepCache();
  mkdirSync(codeServerCacheDir, { recursive: true });
  writeFileSync(
    join(codeServerCacheDir, 'package.json'),
    JSON.stringify(
      {
        name: 'stagelight-code-server',
        private: true,
        description: 'code-server for the Stagelight VS Code test layers (git-ignored cache)',
      },
      null,
      2,
    ) + '\n',
  );
  log(`installing code-server@${CODE_SERVER_VERSION} into ${codeServerCacheDir} (about a minute)`);
  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['install', '--no-audit', '--no-fund', '--save-exact', `code-server@${CODE_SERVER_VERSION}`],
    {
      cwd: codeServerCacheDir,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        // Root installs run lifecycle scripts only with unsafe-perm (older npm; newer ignores it).
        npm_config_unsafe_perm: 'true',
        // node-pty's postinstall runs `npx node-gyp`, which npm 10+ cancels without a yes.
        npm_config_yes: 'true',
      },
    },
  );
  if (result.status !== 0 || !existsSync(entryScript)) {
    throw new Error(
      `npm install code-server@${CODE_SERVER_VERSION} failed (exit ${result.status}); see the output above`,
    );
  }
  writeFileSync(installedMarker, CODE_SERVER_VERSION + '\n');
  log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * @vscode/ripgrep's postinstall looks for its archive in `$TMPDIR/vscode-ripgrep-cache-<v>/`
 * before downloading; an archive holding Debian's `rg` at its top level satisfies it.
 */
function fillRipgrepCache(): void {
  const cacheDir = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const archive = join(cacheDir, RIPGREP_ASSET);
  if (existsSync(archive)) return;
  const rg = findOnPath('rg');
  if (!rg) throw new Error('the `rg` command is needed (apt-get install -y ripgrep)');
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(join(tmpdir(), 'stagelight-rg-'));
  try {
    writeFileSync(join(staging, 'rg'), readFileSync(rg), { mode: 0o755 });
    execFileSync('tar', ['-czf', archive, '-C', staging, 'rg']);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Runs code-server's CLI (not the server) and returns its output; throws on failure. */
function codeServerCli(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [entryScript, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0)
    throw new Error(`code-server ${args.join(' ')} failed (exit ${r.status}):\n${out}`);
  return out;
}

/** Installs a VSIX (or several) into `extensionsDir`, offline. */
export function installExtensions(extensionsDir: string, vsixPaths: readonly string[]): void {
  for (const vsix of vsixPaths) {
    if (!existsSync(vsix)) throw new Error(`VSIX not found: ${vsix}`);
    const out = codeServerCli([
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ]);
    if (!/successfully installed/i.test(out)) {
      throw new Error(`installing ${vsix} did not report success:\n${out}`);
    }
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks; closed again before code-server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Options of `startCodeServer`. */
export interface CodeServerOptions {
  /** The folder the workbench opens. */
  folder: string;
  /** VSIX files installed before start. */
  vsix?: readonly string[];
  /** User settings on top of `quietWorkbenchSettings`. */
  settings?: Readonly<Record<string, unknown>>;
  /** Extra environment for code-server and so for its extension hosts. */
  env?: Readonly<Record<string, string>>;
  /** A name for the run's scratch folder under `.cache/vscode-test-runs/`. */
  label?: string;
}

/** A started code-server. `stop` is idempotent and safe to call from any `finally`. */
export interface RunningCodeServer {
  /** The workbench URL, with `?folder=` set. */
  url: string;
  port: number;
  /** Scratch folder of this run (extensions, user data, logs). */
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's stdout and stderr. */
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

/** Every code-server this process started and has not stopped yet; ended on exit. */
const running = new Set<RunningCodeServer>();
const trackedPids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the harness dies: SIGKILL whatever we recorded (synchronous, by pid).
  process.on('exit', () => {
    for (const pid of trackedPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void Promise.all([...running].map((s) => s.stop())).finally(() => process.exit(130));
    });
  }
}

/**
 * Starts code-server on a free loopback port with fresh extensions and user-data folders,
 * installs the given VSIX files, and resolves when it answers `/healthz`. The caller must call
 * `stop()` (in a `finally`/`after`); the process's exit hook is a backstop, not the plan.
 */
export async function startCodeServer(opts: CodeServerOptions): Promise<RunningCodeServer> {
  ensureCodeServer();
  installExitHook();
  mkdirSync(runsDir, { recursive: true });
  const runDir = mkdtempSync(join(runsDir, `${opts.label ?? 'run'}-`));
  const extensionsDir = join(runDir, 'extensions');
  const userDataDir = join(runDir, 'user-data');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...quietWorkbenchSettings, ...opts.settings }, null, 2),
  );
  installExtensions(extensionsDir, opts.vsix ?? []);

  const port = await freePort();
  const logFile = join(runDir, 'code-server.log');
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        entryScript,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--extensions-dir',
        extensionsDir,
        '--user-data-dir',
        userDataDir,
        '--disable-telemetry',
        '--disable-workspace-trust',
        '--disable-update-check',
        '--disable-getting-started-override',
        opts.folder,
      ],
      {
        // Its own process group, so stop() can signal everything in it at once.
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: { ...process.env, ...opts.env },
      },
    );
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  trackedPids.add(pid);
  let exited = false;
  child.on('exit', () => (exited = true));

  // Record descendants while it runs: file watchers outlive their parents and must be ended by pid.
  const watch = setInterval(() => {
    for (const p of descendantsOf(pid)) trackedPids.add(p);
  }, 1000);
  watch.unref();
  const mine = new Set<number>([pid]);

  let stopped = false;
  const server: RunningCodeServer = {
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(opts.folder)}`,
    port,
    runDir,
    userDataDir,
    extensionsDir,
    logFile,
    pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(watch);
      running.delete(server);
      for (const p of descendantsOf(pid)) trackedPids.add(p);
      // Only pids recorded as descendants of this server (plus the server itself).
      for (const p of trackedPids) if (p === pid || !mine.has(p)) mine.add(p);
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // group already gone
      }
      await endProcesses([...mine], 3000);
      for (const p of mine) trackedPids.delete(p);
      // The installed extensions are most of a run's size; logs and results stay for reading.
      if (!process.env.STAGELIGHT_KEEP_RUNS)
        rmSync(extensionsDir, { recursive: true, force: true });
    },
  };
  running.add(server);

  const deadline = Date.now() + 60_000;
  while (true) {
    if (exited) {
      await server.stop();
      throw new Error(`code-server exited during start-up:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer on port ${port} within 60 s:\n${tail(logFile)}`);
    }
    await sleep(200);
  }
  return server;
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** True when no process recorded for `server` is alive any more. */
export function allStopped(server: RunningCodeServer): boolean {
  return !isAlive(server.pid) && descendantsOf(server.pid).length === 0;
}
