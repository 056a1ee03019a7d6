/**
 * The editor's pure insights helpers (src/extension/insights-format.ts, insights-head.ts):
 * number formatting, the waterfall notification for a trace, baseline changes, the regression
 * notification gate, the sampling what-if's lost-trace lists (checked against the core's own
 * counts), and reading HEAD from a real git repository.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  samplingWhatIf,
  type Baseline,
  type Finding,
  type InsightsReport,
} from '../../src/core/analysis/insights.js';
import { StatusCode } from '../../src/core/model.js';
import {
  baselineChanges,
  baselineLensText,
  findingId,
  findingNumbers,
  formatChange,
  insightsForTrace,
  NotifyGate,
  parseRatio,
  parseThreshold,
  regressionsToNotify,
  samplingLosses,
  samplingMarkdown,
  sparkline,
  stageId,
  whatIfText,
  type SamplingTrace,
} from '../../src/extension/insights-format.js';
import { readHeadCommit, shortSha } from '../../src/extension/insights-head.js';
import { isHostMessage } from '../../src/protocol/messages.js';
import { makeSpan } from './helpers/spans.js';

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);

const regression: Finding = {
  kind: 'stage-regression',
  severity: 'critical',
  score: 5800,
  title: 'reranking 7.00 s vs 1.20 s typical (+5.80 s, 83% of the excess)',
  stage: { service: 'reranker', name: 'reranking' },
  numbers: {
    typicalMs: 1200,
    recentMs: 7000,
    deltaMs: 5800,
    shareOfExcess: 0.83,
    recentTraces: 12,
  },
  traceIds: [T2],
};
const queueing: Finding = {
  kind: 'queueing',
  severity: 'warning',
  score: 700,
  title: '7.90 s of 10.0 s spent waiting in retrieval-requests',
  numbers: { queue: 'retrieval-requests', medianWaitMs: 7900, medianShare: 0.79, trend: 'rising' },
  traceIds: [T1],
  evidence: { waitsMs: [100, 200, 400, 800, 1600], exampleTraceId: T1 },
};
const badInstance: Finding = {
  kind: 'bad-instance',
  severity: 'critical',
  score: 300,
  title: 'reranking on replica=replica-b: p95 15.0 s, 30% errors vs 200 ms, 0% elsewhere',
  stage: { service: 'reranker', name: 'reranking' },
  numbers: { attribute: 'replica', value: 'replica-b', p95Ms: 15000, errorRate: 0.3 },
  traceIds: [T2],
  evidence: {
    group: { p50Ms: 9000, p95Ms: 15000, count: 20 },
    rest: { p50Ms: 150, p95Ms: 200, count: 40 },
  },
};
const untraced: Finding = {
  kind: 'untraced-time',
  severity: 'info',
  score: 100,
  title:
    '400 ms (35% of the critical path) is inside inference_request but outside its child spans',
  stage: { service: 'gateway', name: 'inference_request' },
  numbers: { untracedMs: 400, shareOfCriticalPath: 0.35 },
  traceIds: [],
};

const report: InsightsReport = {
  traces: 40,
  findings: [regression, queueing, badInstance, untraced],
  whatIf: [
    {
      stage: { service: 'reranker', name: 'reranking' },
      factor: 2,
      p95BeforeMs: 2300,
      p95AfterMs: 1700,
      traces: 40,
    },
  ],
};

describe('insights formatting', () => {
  it('labels and formats the numbers behind a finding, with its evidence', () => {
    const rows = findingNumbers(regression);
    assert.deepEqual(rows, [
      { label: 'typical', value: '1.20 s' },
      { label: 'recent', value: '7.00 s' },
      { label: 'change', value: '+5.80 s' },
      { label: 'share of the excess', value: '83%' },
      { label: 'recent traces', value: '12' },
    ]);
    const q = findingNumbers(queueing);
    assert.deepEqual(q.slice(0, 4), [
      { label: 'queue', value: 'retrieval-requests' },
      { label: 'median wait', value: '7.90 s' },
      { label: 'share of the request', value: '79%' },
      { label: 'trend', value: 'rising' },
    ]);
    assert.equal(q[4]?.label, 'wait per trace (oldest first)');
    assert.equal(q[4]?.value, sparkline([100, 200, 400, 800, 1600]));
    const b = findingNumbers(badInstance);
    assert.deepEqual(b.slice(-2), [
      { label: 'replica=replica-b', value: 'p50 9.00 s · p95 15.0 s · n=20' },
      { label: 'elsewhere', value: 'p50 150 ms · p95 200 ms · n=40' },
    ]);
  });

  it('formats signed changes and sparklines', () => {
    assert.equal(formatChange(-0.12), '-12%');
    assert.equal(formatChange(0.4), '+40%');
    assert.equal(formatChange(0.001), '±0%');
    assert.equal(sparkline([0, 0, 0]), '▁▁▁');
    assert.equal(sparkline([0, 8]), '▁█');
    assert.equal(sparkline([4, 8]), '▅█');
    assert.equal(
      [
        ...sparkline(
          Array.from({ length: 100 }, (_, i) => i),
          10,
        ),
      ].length,
      10,
    );
    assert.equal(
      whatIfText(report.whatIf[0]!),
      'reranking 2x faster: end-to-end p95 2.30 s → 1.70 s (-26%)',
    );
  });

  it('gives findings stable ids that tell bad instances apart', () => {
    assert.notEqual(findingId(badInstance), findingId({ ...badInstance, numbers: { value: 'x' } }));
    assert.equal(findingId(regression), findingId({ ...regression, title: 'other numbers' }));
  });

  it('builds the waterfall notification: findings about the trace first, valid for the guard', () => {
    const n = insightsForTrace(
      report,
      T1,
      new Set([stageId('gateway', 'inference_request')]),
      [
        { stage: { service: 'gateway', name: 'preprocessing' }, ms: 50, typicalMs: 50, share: 0 },
        {
          stage: { service: 'reranker', name: 'reranking' },
          ms: 7000,
          typicalMs: 1200,
          share: 0.9,
        },
      ],
      { label: 'a1b2c3d', pinnedAt: 1 },
    );
    assert.ok(isHostMessage(n));
    assert.equal(n.traceId, T1);
    // queueing names T1; untraced time's stage runs in it; the others are about other traces.
    assert.deepEqual(
      n.findings.map((f) => [f.kind, f.relevant]),
      [
        ['queueing', true],
        ['untraced-time', true],
        ['stage-regression', false],
        ['bad-instance', false],
      ],
    );
    assert.deepEqual(
      n.explain.map((r) => r.name),
      ['reranking', 'preprocessing'],
    );
    assert.deepEqual(n.baseline, { label: 'a1b2c3d', pinnedAt: 1 });
    // A structured-clone-safe payload: plain data only.
    assert.deepEqual(JSON.parse(JSON.stringify(n)), n);
  });

  it('measures stage changes against a baseline built the same way', () => {
    const base: Baseline = {
      label: 'a1b2c3d',
      pinnedAt: 0,
      stages: [
        { service: 'reranker', name: 'reranking', count: 20, p50Ms: 1200, p95Ms: 1600 },
        { service: 'gone', name: 'old', count: 20, p50Ms: 10, p95Ms: 10 },
      ],
    };
    const now: Baseline = {
      label: 'now',
      pinnedAt: 1,
      stages: [
        { service: 'reranker', name: 'reranking', count: 20, p50Ms: 1100, p95Ms: 1408 },
        { service: 'new', name: 'stage', count: 5, p50Ms: 10, p95Ms: 10 },
      ],
    };
    const changes = baselineChanges(now, base);
    assert.deepEqual([...changes.keys()], [stageId('reranker', 'reranking')]);
    const c = changes.get(stageId('reranker', 'reranking'))!;
    assert.ok(Math.abs(c.change - -0.12) < 1e-9);
    assert.equal(baselineLensText(c, 'a1b2c3d'), '-12% vs baseline a1b2c3d');
    assert.equal(
      baselineLensText(c, 'a1b2c3d', 'long'),
      'p95 1.41 s, -12% vs baseline a1b2c3d (1.60 s)',
    );
    assert.match(
      baselineLensText(c, 'a very long baseline label indeed'),
      /baseline a very long bas…$/,
    );
  });

  it('lets a stage regression through once per interval', () => {
    const gate = new NotifyGate(5 * 60_000);
    assert.deepEqual(regressionsToNotify(report, gate, 0), [regression]);
    assert.deepEqual(regressionsToNotify(report, gate, 60_000), []);
    assert.deepEqual(regressionsToNotify(report, gate, 5 * 60_000), [regression]);
    const other = { ...regression, stage: { service: 'decoder', name: 'generation' } };
    assert.deepEqual(
      regressionsToNotify({ ...report, findings: [regression, other] }, gate, 5 * 60_000 + 1),
      [other],
    );
  });
});

describe('sampling what-if lists', () => {
  // 200 traces with pseudo-random ids; every 10th failed; durations spread over 10..2000 ms.
  const traces = Array.from({ length: 200 }, (_, i) => {
    const id = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
    const traceId = `${id}${'0'.repeat(10)}${id}${id.slice(0, 6)}`.slice(0, 32);
    const failed = i % 10 === 0;
    const durationMs = 10 + ((i * 37) % 200) * 10;
    return {
      traceId,
      durationMs,
      spans: [
        makeSpan({
          traceId,
          spanId: 'root',
          start: 0,
          end: durationMs,
          status: failed ? StatusCode.ERROR : StatusCode.UNSET,
        }),
      ],
    };
  });
  const simple: SamplingTrace[] = traces.map((t) => ({
    traceId: t.traceId,
    durationMs: t.durationMs,
    hasError: t.spans.some((s) => s.isError),
    rootName: 'inference_request',
  }));

  for (const policy of [
    { headRatio: 0.1, keepErrors: false },
    { headRatio: 0.1, keepErrors: true },
    { headRatio: 0.25, keepErrors: true, latencyThresholdMs: 1500 },
    { headRatio: 0, keepErrors: false, latencyThresholdMs: 1900 },
  ]) {
    it(`lists exactly the traces the core counts as lost (${JSON.stringify(policy)})`, () => {
      const outcome = samplingWhatIf(traces, policy);
      const losses = samplingLosses(simple, policy, outcome.slowThresholdMs);
      assert.equal(losses.head.slow.length, outcome.head.lostSlow);
      assert.equal(losses.head.failed.length, outcome.head.lostErrors);
      assert.equal(losses.tail.slow.length, outcome.tail.lostSlow);
      assert.equal(losses.tail.failed.length, outcome.tail.lostErrors);
      for (const l of [losses.head.slow, losses.tail.failed]) {
        for (let i = 1; i < l.length; i++) assert.ok(l[i - 1]!.durationMs >= l[i]!.durationMs);
      }
      const md = samplingMarkdown(outcome, policy, losses);
      assert.match(md, /# Stagelight: sampling what-if/);
      assert.match(md, new RegExp(`\\| head \\+ tail rules \\| ${outcome.tail.kept} `));
      if (policy.keepErrors) assert.equal(losses.tail.failed.length, 0);
    });
  }

  it('parses the prompts', () => {
    assert.equal(parseRatio('0.1'), 0.1);
    assert.equal(parseRatio('10%'), 0.1);
    assert.equal(parseRatio('.5'), 0.5);
    assert.equal(parseRatio('2'), undefined);
    assert.equal(parseRatio('x'), undefined);
    assert.equal(parseThreshold(''), null);
    assert.equal(parseThreshold('none'), null);
    assert.equal(parseThreshold('500ms'), 500);
    assert.equal(parseThreshold('1.5s'), 1500);
    assert.equal(parseThreshold('800'), 800);
    assert.equal(parseThreshold('fast'), undefined);
  });
});

describe('HEAD of a git working tree', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'stagelight-head-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: dir,
      },
    }).trim();

  it('follows commits, branches, packed refs, detached HEAD and linked worktrees', () => {
    assert.equal(readHeadCommit(dir), undefined); // not a repository yet
    git('init', '-q', '-b', 'main');
    assert.equal(readHeadCommit(dir), undefined); // unborn branch
    writeFileSync(path.join(dir, 'a.txt'), '1');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'one');
    const one = git('rev-parse', 'HEAD');
    assert.equal(readHeadCommit(dir), one);
    writeFileSync(path.join(dir, 'a.txt'), '2');
    git('commit', '-q', '-am', 'two');
    const two = git('rev-parse', 'HEAD');
    assert.equal(readHeadCommit(dir), two);
    git('pack-refs', '--all'); // the loose ref file is gone; packed-refs has it
    assert.equal(readHeadCommit(dir), two);
    git('checkout', '-q', one); // detached
    assert.equal(readHeadCommit(dir), one);
    git('checkout', '-q', 'main');
    git('worktree', 'add', '-q', path.join(dir, 'wt'), '-b', 'side', one);
    assert.equal(readHeadCommit(path.join(dir, 'wt')), one);
    assert.equal(shortSha(two), two.slice(0, 7));
  });
});
