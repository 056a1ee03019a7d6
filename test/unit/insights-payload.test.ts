/**
 * How the insights read (src/core/api/insights-payload.ts), on findings the diagnoses really
 * produce from hand-built traces: labelled numbers, ids that stay unique, which findings concern
 * a trace, the waterfall notification, lens texts against the baseline, the notification gate,
 * and the sampling what-if report.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeBaseline } from '../../src/core/analysis/baseline.js';
import {
  computeInsights,
  explainTrace,
  samplingWhatIf,
  type Finding,
} from '../../src/core/analysis/insights/index.js';
import {
  baselineLensText,
  concernsTrace,
  findingId,
  findingNumbers,
  formatNumber,
  insightsForTrace,
  llmLensText,
  NotifyGate,
  parseRatio,
  parseThreshold,
  regressionsToNotify,
  samplingMarkdown,
  sparkline,
  whatIfText,
} from '../../src/core/api/insights-payload.js';
import { formatChange } from '../../src/shared/format.js';
import { isHostMessage } from '../../src/protocol/messages.js';
import { trace, traces } from './helpers/pipeline.js';

const baseline = makeBaseline(traces(12), 'a1b2c3d', 'commit', 0);
const normal = traces(4, () => ({}), 100);
const slow = traces(8, () => ({ rerankMs: 7000, candidates: 40 }), 104);
const report = computeInsights([...normal, ...slow], { baseline });
const regression = report.findings.find((f) => f.kind === 'stage-regression')!;

describe('insights payload', () => {
  it('labels and formats the numbers behind a finding, with its evidence', () => {
    assert.ok(regression, report.findings.map((f) => f.title).join('\n'));
    const rows = findingNumbers(regression);
    const byLabel = new Map(rows.map((r) => [r.label, r.value]));
    assert.equal(byLabel.get('typical'), '1.20 s');
    assert.equal(byLabel.get('change'), '+5.80 s');
    assert.equal(byLabel.get('input.size moved'), '8 → 40');
    assert.equal(formatNumber('shareOfExcess', 0.83), '83%');
    assert.equal(formatNumber('causeP', 0.00001), '< 0.0001');
  });

  it('formats signed changes and sparklines', () => {
    assert.equal(formatChange(0.123), '+12%');
    assert.equal(formatChange(-0.04), '-4%');
    assert.equal(formatChange(0.001), '±0%');
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
    assert.equal(sparkline([]), '');
    assert.match(
      whatIfText(report.whatIf[0]!),
      /^\S+ 2x faster: end-to-end p95 .+ → .+ \(-\d+%\)$/,
    );
  });

  it('gives findings ids that stay unique: stale apart from current, replicas apart', () => {
    const a: Finding = {
      kind: 'bad-instance',
      severity: 'warning',
      score: 1,
      title: 'a',
      stage: { service: 's', name: 'n' },
      numbers: { attribute: 'replica', value: 'x' },
      traceIds: [],
    };
    const b: Finding = { ...a, numbers: { attribute: 'replica', value: 'y' } };
    assert.notEqual(findingId(a), findingId(b));
    assert.notEqual(findingId(a), findingId({ ...a, stale: true }));
  });

  it('says a finding concerns a trace only when the trace shows it', () => {
    const slowTrace = slow[0]!;
    const normalTrace = normal[0]!;
    assert.equal(concernsTrace(regression, slowTrace), true);
    // The normal trace runs reranking too, but its reranking is not slow.
    assert.equal(concernsTrace({ ...regression, traceIds: [] }, normalTrace), false);
  });

  it('builds the waterfall notification: findings about the trace first, valid for the guard', () => {
    const t = slow[2]!;
    const n = insightsForTrace(report, t, explainTrace(t, normal));
    assert.equal(isHostMessage(n), true);
    assert.equal(n.traceId, t.traceId);
    assert.equal(n.baseline.state, 'set');
    assert.equal(n.findings[0]!.kind, 'stage-regression');
    assert.equal(n.findings[0]!.relevant, true);
    assert.equal(n.findings[0]!.kindLabel, 'stage regressed');
    const top = n.explain[0]!;
    assert.equal(top.name, 'reranking');
    assert.ok(top.share > 0 && top.share <= 1);
    const none = insightsForTrace(computeInsights(normal), normal[0], undefined);
    assert.equal(none.baseline.state, 'none');
    assert.match(none.baseline.message, /^No baseline yet/);
  });

  it('words the lens change against the baseline', () => {
    const d = report.stageDeltas.find((x) => x.name === 'reranking')!;
    // The lens says how much longer the stage holds the critical path: +5.80 s.
    assert.equal(baselineLensText(d, baseline.label), '+5.80 s vs baseline a1b2c3d');
    assert.match(
      baselineLensText(d, 'a-very-long-baseline-label'),
      /vs baseline a-very-long-bas…$/,
    );
    assert.match(
      baselineLensText(d, baseline.label, 'long'),
      /^critical path 7\.00 s, \+5\.80 s vs baseline a1b2c3d \(1\.20 s\); p95 7\.\d\d s, \+\d+% \(1\.20 s\)$/,
    );
  });

  it('gives an LLM stage lens its time to first token and decode speed', () => {
    const r = computeInsights(traces(6, () => ({ generationMs: 1000, outputTokens: 49 })));
    const f = r.findings.find((x) => x.kind === 'llm')!;
    assert.equal(llmLensText(f), 'TTFT 101 ms · 53 tokens/s');
    assert.equal(llmLensText(regression), undefined);
  });

  it('lets a stage regression through once per interval', () => {
    const gate = new NotifyGate(60_000);
    assert.equal(regressionsToNotify(report, gate, 0).length, 1);
    assert.equal(regressionsToNotify(report, gate, 30_000).length, 0);
    assert.equal(regressionsToNotify(report, gate, 61_000).length, 1);
  });

  it('reports the sampling what-if with the traces each policy loses', () => {
    const all = [...normal, ...slow, trace(200, { generationError: 'boom' })].map((t) => ({
      traceId: t.traceId,
      durationMs: t.durationMs,
      hasError: t.hasError,
      rootName: t.rootName,
    }));
    const policy = { headRatio: 0, keepErrors: false };
    const outcome = samplingWhatIf(all, policy);
    const md = samplingMarkdown(outcome, policy);
    assert.match(md, /# Stagelight: sampling what-if/);
    assert.match(md, new RegExp(`\\| head \\+ tail rules \\| ${outcome.tail.kept} `));
    assert.match(md, /## Failed traces head \+ tail sampling would lose \(1\)/);
    assert.match(md, /inference\\_request/);
  });

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
