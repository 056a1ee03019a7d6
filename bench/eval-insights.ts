/**
 * `npm run eval:insights`: are the diagnoses right, and how soon? Every demo scenario runs
 * through the real pipeline (worker processes, onnxruntime, the OTLP/gRPC exporter) into a real
 * Stagelight receiver, in three situations:
 *
 *   fresh         a new receiver, the scenario is the first thing it sees
 *   after-normal  a new receiver that has seen a normal run first
 *   sequence      one receiver for all scenarios, one incident after another
 *
 * While a scenario runs, the receiver's insights (the background report, as the editor reads
 * it) are polled twice a second; a cell records the top finding at the end, whether it is
 * right, and the seconds from the scenario's first request (after the demo's warm-up) to the
 * first poll whose top finding was right (or to the end of the run, when only the final report
 * with every span in was right). In normal runs any finding above `info` is a false
 * finding. The last line is one JSON object; figures go to docs/benchmarks.md.
 *
 * Options: --runs=N (default 1), --scale=F (model scale, default 0.5),
 * --situations=fresh,after-normal,sequence, --cases=a,b (names below), --no-docs.
 */
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { startServer, type RunningServer } from '../src/core/server.js';
import type { Finding, InsightsReport } from '../src/core/analysis/insights/index.js';
import { runDemo } from '../demo/run-demo.js';
import type { ScenarioName } from '../demo/scenarios.js';
import { docsMarkers, writeBenchSection } from './lib/docs.js';

interface Case {
  readonly name: string;
  readonly scenario: ScenarioName;
  readonly clockSkewMs?: number;
  /** What the right top finding is, in words (for the table). */
  readonly expect: string;
  /** Whether the report's top finding names the incident (for normal: no alarm at all). */
  judge(r: InsightsReport): boolean;
}

const top = (r: InsightsReport): Finding | undefined => r.findings[0];
/** An incident's top finding must be an alarm (a dominant stage at `info` is no diagnosis). */
const alarm = (r: InsightsReport): Finding | undefined => {
  const t = top(r);
  return t !== undefined && t.severity !== 'info' ? t : undefined;
};
const alarms = (r: InsightsReport): Finding[] => r.findings.filter((f) => f.severity !== 'info');
const names = (f: Finding | undefined, stage: string): boolean => f?.stage?.name === stage;
const reranking = (r: InsightsReport): boolean =>
  names(alarm(r), 'reranking') &&
  ['stage-regression', 'dominant-stage', 'remote-wait'].includes(top(r)!.kind);

export const CASES: readonly Case[] = [
  {
    name: 'normal',
    scenario: 'normal',
    expect: 'no finding above info',
    judge: (r) => alarms(r).length === 0,
  },
  {
    name: 'normal+skew50ms',
    scenario: 'normal',
    clockSkewMs: 50,
    expect: 'no finding above info',
    judge: (r) => alarms(r).length === 0,
  },
  { name: 'slow-reranker', scenario: 'slow-reranker', expect: 'reranking', judge: reranking },
  {
    name: 'slow-reranker+skew2ms',
    scenario: 'slow-reranker',
    clockSkewMs: 2,
    expect: 'reranking',
    judge: reranking,
  },
  {
    name: 'queue-backlog',
    scenario: 'queue-backlog',
    expect: 'queueing in retrieval-requests',
    judge: (r) => alarm(r)?.kind === 'queueing' && top(r)?.numbers.queue === 'retrieval-requests',
  },
  {
    name: 'degraded-replica',
    scenario: 'degraded-replica',
    expect: 'generation-b',
    judge: (r) => {
      const t = alarm(r);
      if (t === undefined) return false;
      if (t.kind === 'bad-instance') return String(t.numbers.value) === 'generation-b';
      return t.kind === 'errors' && /generation-b$/.test(String(t.numbers.cause ?? ''));
    },
  },
  {
    name: 'errors',
    scenario: 'errors',
    expect: 'generation errors, cause max_tokens',
    judge: (r) =>
      alarm(r)?.kind === 'errors' &&
      names(top(r), 'generation') &&
      String(top(r)?.numbers.cause ?? '').startsWith('gen_ai.request.max_tokens='),
  },
  {
    name: 'cold-start',
    scenario: 'cold-start',
    expect: 'cold start (model_load)',
    judge: (r) => alarm(r)?.kind === 'cold-start',
  },
  {
    name: 'model-rollout',
    scenario: 'model-rollout',
    expect: 'reranking, model.version moved',
    judge: (r) => reranking(r) && /model\.version 1\.0 → 1\.1/.test(top(r)!.title),
  },
];

type Situation = 'fresh' | 'after-normal' | 'sequence';
const SITUATIONS: readonly Situation[] = ['fresh', 'after-normal', 'sequence'];

interface Cell {
  situation: Situation;
  run: number;
  case: string;
  expect: string;
  top: string;
  right: boolean;
  secondsToRight: number | null;
  falseFindings: number;
  seconds: number;
}

interface Options {
  runs: number;
  scale: number;
  situations: Situation[];
  cases: Case[];
  docs: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const get = (k: string) => argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
  const runs = Number(get('runs') ?? '1');
  const scale = Number(get('scale') ?? '0.5');
  const situations = (get('situations') ?? SITUATIONS.join(',')).split(',') as Situation[];
  const wanted = get('cases')?.split(',');
  const cases = wanted === undefined ? [...CASES] : CASES.filter((c) => wanted.includes(c.name));
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
  if (!(scale > 0 && scale <= 4)) throw new Error('--scale must be in (0, 4]');
  for (const s of situations)
    if (!SITUATIONS.includes(s)) throw new Error(`unknown situation ${s}`);
  if (cases.length === 0)
    throw new Error(`no case matches --cases (use ${CASES.map((c) => c.name).join(', ')})`);
  return { runs, scale, situations, cases, docs: !argv.includes('--no-docs') };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function report(server: RunningServer, fresh: boolean): Promise<InsightsReport> {
  const res = await fetch(`${server.endpoints.api}/insights${fresh ? '?fresh=true' : ''}`);
  return (await res.json()) as InsightsReport;
}

/** Runs one case into a receiver, polling its insights; returns the cell. */
async function runCase(
  server: RunningServer,
  c: Case,
  situation: Situation,
  run: number,
  opts: Options,
  cacheDir: string,
): Promise<Cell> {
  const t0 = Date.now();
  let loadStart: number | undefined;
  let firstRight: number | undefined;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, 500));
      if (loadStart === undefined || firstRight !== undefined) continue;
      try {
        const r = await report(server, false);
        // Only a report about this run counts (not the previous scenario's findings).
        if (
          r.computedAt >= loadStart &&
          r.scope.sinceMs >= t0 &&
          c.judge(r) &&
          c.scenario !== 'normal'
        ) {
          firstRight = Date.now();
        }
      } catch {
        // The next poll will do.
      }
    }
  })();
  try {
    await runDemo({
      scenario: c.scenario,
      modelScale: opts.scale,
      cacheDir,
      device: 'cpu',
      endpoint: server.endpoints.grpc,
      apiUrl: server.endpoints.api,
      clockSkewMs: c.clockSkewMs,
      seed: run,
      onLoadStart: () => {
        loadStart = Date.now();
      },
    });
  } finally {
    polling = false;
    await poll;
  }
  const final = await report(server, true);
  const right = c.judge(final);
  // Right only in the final report (every span in): the time is the end of the run.
  if (right && firstRight === undefined) firstRight = Date.now();
  const t = top(final);
  return {
    situation,
    run,
    case: c.name,
    expect: c.expect,
    top: t === undefined ? '(none)' : `${t.severity} ${t.kind}: ${t.title}`,
    right,
    secondsToRight:
      c.scenario === 'normal'
        ? null
        : firstRight !== undefined && loadStart !== undefined
          ? Math.round((firstRight - loadStart) / 100) / 10
          : null,
    falseFindings: c.scenario === 'normal' ? alarms(final).length : 0,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
}

function freshServer(): Promise<RunningServer> {
  return startServer({ grpcPort: 0, httpPort: 0, log: quiet, settleMs: 1000 });
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const opts = parseOptions(process.argv.slice(2));
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: root, stdio: 'inherit' });
  const cacheDir = path.join(os.homedir(), '.cache', 'stagelight', 'models');
  const cells: Cell[] = [];
  const print = (cell: Cell) => {
    cells.push(cell);
    console.log(
      `${cell.situation.padEnd(12)} ${String(cell.run).padStart(2)} ${cell.case.padEnd(31)} ` +
        `${cell.right ? 'RIGHT' : 'WRONG'} ${cell.secondsToRight === null ? '   -' : `${cell.secondsToRight.toFixed(1)}s`.padStart(5)}  ${cell.top.slice(0, 140)}`,
    );
  };
  const t0 = Date.now();
  for (let run = 1; run <= opts.runs; run++) {
    for (const situation of opts.situations) {
      if (situation === 'sequence') {
        const server = await freshServer();
        try {
          for (const c of opts.cases)
            print(await runCase(server, c, situation, run, opts, cacheDir));
        } finally {
          await server.close();
        }
        continue;
      }
      for (const c of opts.cases) {
        const server = await freshServer();
        try {
          if (situation === 'after-normal') {
            await runDemo({
              scenario: 'normal',
              modelScale: opts.scale,
              cacheDir,
              device: 'cpu',
              endpoint: server.endpoints.grpc,
              apiUrl: server.endpoints.api,
              seed: 100 + run,
            });
          }
          print(await runCase(server, c, situation, run, opts, cacheDir));
        } finally {
          await server.close();
        }
      }
    }
  }
  const incidents = cells.filter((c) => c.secondsToRight !== null || !c.case.startsWith('normal'));
  const times = incidents.map((c) => c.secondsToRight).filter((s): s is number => s !== null);
  const summary = {
    cells: cells.length,
    right: cells.filter((c) => c.right).length,
    maxSecondsToRight: times.length > 0 ? Math.max(...times) : null,
    medianSecondsToRight:
      times.length > 0 ? [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] : null,
    falseFindingsInNormal: cells.reduce((n, c) => n + c.falseFindings, 0),
    minutes: Math.round((Date.now() - t0) / 6000) / 10,
  };
  if (opts.docs) {
    const file = writeBenchSection(root, 'eval-insights', docsSection(cells, summary, opts));
    console.log(`\nwrote ${path.relative(root, file)}`);
  }
  console.log(JSON.stringify(summary));
}

function docsSection(
  cells: readonly Cell[],
  summary: Record<string, unknown>,
  opts: Options,
): string {
  const { start, end } = docsMarkers('eval-insights');
  const rows = cells.map(
    (c) =>
      `| ${c.situation} | ${c.run} | ${c.case} | ${c.expect} | ${c.right ? 'right' : '**wrong**'} | ` +
      `${c.secondsToRight === null ? '–' : `${c.secondsToRight.toFixed(1)} s`} | ${c.top.replace(/\|/g, '\\|').slice(0, 160)} |`,
  );
  return `${start}
## Insights evaluation (\`npm run eval:insights\`)

Every demo scenario through the real pipeline into a real receiver, in three situations
(\`fresh\`: a new receiver; \`after-normal\`: a new receiver after a normal run; \`sequence\`: one
receiver, one incident after another), ${opts.runs} run(s), model scale ${opts.scale}, on
${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${new Date().toISOString().slice(0, 10)}.
"Seconds" runs from the scenario's first request (after the demo's 8-request warm-up, which is
its baseline; cold start has none) to the first background report whose top finding was right,
as the editor would show it. In normal runs any finding above \`info\` is counted as false.

Summary: \`${JSON.stringify(summary)}\`

| situation | run | case | right top finding | result | seconds | top finding at the end |
| --- | ---: | --- | --- | --- | ---: | --- |
${rows.join('\n')}

\`\`\`sh
npm run eval:insights -- --runs=${opts.runs} --scale=${opts.scale}
\`\`\`
${end}`;
}

void main().catch((e: unknown) => {
  console.error((e as Error).stack ?? e);
  process.exit(1);
});
