/**
 * Runs: which traces belong together as one "run" of the system, so that findings speak of what
 * happens now and not of an incident that ended minutes ago.
 *
 * A run ends when the traffic pauses for {@link RunTracker.gapMs} (a script finished, the user
 * edits and runs it again), or when requests start coming from a root process that has not sent
 * any before while the previous root processes have stopped (the demo, or a service, restarted).
 * Several root processes at once (replicas behind a load balancer) are one run: a new root
 * process opens a tentative run, which merges back as soon as an earlier root process sends a
 * newer request.
 */

export interface RunInfo {
  readonly id: number;
  /** Arrival of its first trace and of its latest span (wall clock, ms). */
  readonly startedAt: number;
  readonly lastActivity: number;
  readonly rootProcesses: ReadonlySet<string>;
}

interface MutableRun {
  id: number;
  startedAt: number;
  lastActivity: number;
  rootProcesses: Set<string>;
}

/** What the tracker needs of a trace. */
export interface RunMember {
  readonly receivedAt: number;
  readonly updatedAt: number;
  readonly rootProcess: string;
}

/** Most runs remembered (older ones are only ids of traces that have left the window). */
const MAX_RUNS = 64;

export class RunTracker {
  private runs: MutableRun[] = [];
  private aliases = new Map<number, number>();
  private nextId = 1;

  constructor(readonly gapMs = 30_000) {}

  /** Assigns a trace to a run and returns the run's id. */
  assign(t: RunMember): number {
    const cur = this.runs[this.runs.length - 1];
    if (cur === undefined) return this.open(t).id;
    // A straggler (it arrived before the latest run began) joins the run it arrived in.
    if (t.receivedAt < cur.startedAt) {
      for (let i = this.runs.length - 1; i >= 0; i--) {
        const r = this.runs[i]!;
        if (r.startedAt <= t.receivedAt) {
          r.rootProcesses.add(t.rootProcess);
          return r.id;
        }
      }
      return this.runs[0]!.id;
    }
    if (t.receivedAt - cur.lastActivity >= this.gapMs) return this.open(t).id;
    if (cur.rootProcesses.has(t.rootProcess)) {
      cur.lastActivity = Math.max(cur.lastActivity, t.updatedAt);
      return cur.id;
    }
    // An earlier run's root process sent a newer request: the runs since were tentative.
    for (let i = this.runs.length - 2; i >= 0; i--) {
      const r = this.runs[i]!;
      if (!r.rootProcesses.has(t.rootProcess)) continue;
      if (cur.startedAt - r.lastActivity >= this.gapMs) break;
      for (const later of this.runs.splice(i + 1)) {
        this.aliases.set(later.id, r.id);
        for (const p of later.rootProcesses) r.rootProcesses.add(p);
        r.lastActivity = Math.max(r.lastActivity, later.lastActivity);
      }
      r.lastActivity = Math.max(r.lastActivity, t.updatedAt);
      return r.id;
    }
    return this.open(t).id;
  }

  /** The run a (possibly merged) id now stands for. */
  resolve(id: number): number {
    let cur = id;
    for (let next = this.aliases.get(cur); next !== undefined; next = this.aliases.get(cur)) {
      cur = next;
    }
    return cur;
  }

  /** The latest run, if any trace was assigned. */
  latest(): RunInfo | undefined {
    return this.runs[this.runs.length - 1];
  }

  /** Everything forgotten (the store was cleared). */
  clear(): void {
    this.runs = [];
    this.aliases.clear();
  }

  private open(t: RunMember): MutableRun {
    const run: MutableRun = {
      id: this.nextId++,
      startedAt: t.receivedAt,
      lastActivity: t.updatedAt,
      rootProcesses: new Set([t.rootProcess]),
    };
    this.runs.push(run);
    if (this.runs.length > MAX_RUNS) this.runs.shift();
    // Aliases of forgotten runs are not needed any more.
    if (this.aliases.size > 4 * MAX_RUNS) this.aliases.clear();
    return run;
  }
}
