/**
 * Process bookkeeping for the harness: which processes descend from one we started, and ending
 * them by pid. code-server leaves a `fileWatcher` process per browser session that survives its
 * parent, so the tree is recorded while it is alive and every recorded pid is ended afterwards.
 * Only pids that descend from a process this harness spawned are ever signalled.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Parent pid of `pid`, from /proc (Linux); undefined when the process is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    return Number.isFinite(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The command line of `pid`, or '' when it is gone. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every live process that descends from `rootPid` (not `rootPid` itself). */
export function descendantsOf(rootPid: number): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return []; // not Linux: the process-group kill in the caller still applies
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of children.get(next) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Ends each pid: SIGTERM, then SIGKILL for those still alive after `graceMs`. Resolves when all
 * are gone (or after the SIGKILL, which cannot be refused).
 */
export async function endProcesses(pids: readonly number[], graceMs = 2000): Promise<void> {
  const alive = pids.filter(isAlive);
  for (const pid of alive) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of alive) if (isAlive(pid)) signal(pid, 'SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
