/**
 * Errors: the stage where requests fail (counted where each error starts, reported at the stage
 * a user knows), with the exception seen most, and the cause when one explains them: an
 * attribute value that every failing request had and (almost) no successful one did.
 *
 * A cause is judged on the stage's spans and their ancestors up to the stage span, over failing
 * and succeeding traces alike: `gen_ai.request.max_tokens=80` on all 6 failures and on none of
 * the 14 successes explains them, and a one-sided Fisher exact test (p <= 0.001) rules out
 * chance. Attributes that describe the failure itself (`error.type`, status codes) are never a
 * cause. A cause that explains every failure outranks findings that explain some.
 *
 * When logs are received too, the finding quotes the line the failing span wrote (its
 * highest-severity record, see `signal-evidence.ts`) from the first failing trace listed that
 * has one: the program's own words for what went wrong.
 */

import { fisherGreaterP } from '../statistics.js';
import type { TraceFacts } from '../trace-facts.js';
import type { StageKey } from '../../../shared/stage-key.js';
import { isInstanceKey, isOutcomeKey, pct, stage } from './common.js';
import { failingSpanLog, titleQuote, type LogQuote } from './signal-evidence.js';
import type { Diagnosis, Finding } from './types.js';

const CAUSE_P = 0.001;
/**
 * A replica or host on which every failure happened is a cause even if it also served some
 * requests well (a degraded replica fails some of its requests, not all): for instance keys
 * coverage must be complete, and p <= 0.01 suffices.
 */
const INSTANCE_CAUSE_P = 0.01;
/** Longest exception message in a title (the whole one is in the evidence). */
const TITLE_MESSAGE_CHARS = 120;

/** The attribute values on the stage span of a trace and under it, as "key=value" strings. */
function stageValues(t: TraceFacts, key: StageKey, upTo?: number): Set<string> {
  const out = new Set<string>();
  const add = (i: number) => {
    const a = t.attrs[i];
    if (a !== undefined) {
      for (let j = 0; j < a.length; j += 2)
        if (!isOutcomeKey(a[j]!)) out.add(`${a[j]}=${a[j + 1]}`);
    }
    for (const r of t.spans[i]!.resource.attributes) {
      if (!isInstanceKey(r.key)) continue;
      const v = r.value;
      const text = 'stringValue' in v ? v.stringValue : 'intValue' in v ? v.intValue : undefined;
      if (text !== undefined) out.add(`${r.key}=${text}`);
    }
  };
  if (upTo !== undefined) {
    // The failing span and its ancestors up to (and including) the stage span.
    for (let i = upTo; i >= 0; i = t.parent[i]!) {
      add(i);
      if (t.stageOf[i] === key) break;
    }
    return out;
  }
  // A succeeding trace: the stage's spans and their subtrees.
  for (let i = 0; i < t.spans.length; i++) {
    if (t.stageOf[i] !== key) continue;
    add(i);
    const d = t.depth[i]!;
    for (let j = i + 1; j < t.spans.length && t.depth[j]! > d; j++) add(j);
  }
  return out;
}

export interface ErrorCause {
  /** `key=value`. */
  readonly attribute: string;
  /** Failing traces with it, of all failing traces. */
  readonly failuresWith: number;
  readonly failures: number;
  /** Succeeding traces (that ran the stage) with it, of all of them. */
  readonly successesWith: number;
  readonly successes: number;
  readonly p: number;
}

/** The attribute value that explains the most failures, if any explains them significantly. */
export function errorCause(
  failed: ReadonlyArray<{ t: TraceFacts; span: number }>,
  succeeded: readonly TraceFacts[],
  key: StageKey,
): ErrorCause | undefined {
  const failCount = new Map<string, number>();
  for (const { t, span } of failed) {
    for (const v of stageValues(t, key, span)) failCount.set(v, (failCount.get(v) ?? 0) + 1);
  }
  const okCount = new Map<string, number>();
  for (const t of succeeded) {
    for (const v of stageValues(t, key))
      if (failCount.has(v)) okCount.set(v, (okCount.get(v) ?? 0) + 1);
  }
  let best: ErrorCause | undefined;
  for (const [attribute, withFail] of failCount) {
    const withOk = okCount.get(attribute) ?? 0;
    const instance = isInstanceKey(attribute.slice(0, attribute.indexOf('=')));
    // Precision: a value most successes share (the model name) explains nothing. A replica
    // explains its failures when it has all of them.
    if (instance ? withFail < failed.length : withOk > 0.1 * (withFail + withOk)) continue;
    const p = fisherGreaterP(
      withFail,
      withFail + withOk,
      failed.length - withFail,
      failed.length - withFail + succeeded.length - withOk,
    );
    if (p > (instance ? INSTANCE_CAUSE_P : CAUSE_P)) continue;
    const better =
      best === undefined ||
      withFail > best.failuresWith ||
      (withFail === best.failuresWith && p < best.p);
    if (better) {
      best = {
        attribute,
        failuresWith: withFail,
        failures: failed.length,
        successesWith: withOk,
        successes: succeeded.length,
        p,
      };
    }
  }
  return best;
}

export const errors: Diagnosis = {
  kind: 'errors',
  *run(ctx) {
    const traces = ctx.traces;
    if (traces.length < 3) return [];
    // Stage -> failing traces (with the first error span in each) and the messages seen.
    const failed = new Map<StageKey, Map<string, { t: TraceFacts; span: number }>>();
    const messages = new Map<StageKey, Map<string, number>>();
    for (const t of traces) {
      for (const e of t.errors) {
        let m = failed.get(e.stage);
        if (m === undefined) failed.set(e.stage, (m = new Map()));
        if (!m.has(t.traceId)) m.set(t.traceId, { t, span: e.span });
        if (e.message !== undefined) {
          let c = messages.get(e.stage);
          if (c === undefined) messages.set(e.stage, (c = new Map()));
          c.set(e.message, (c.get(e.message) ?? 0) + 1);
        }
      }
    }
    const out: Finding[] = [];
    for (const [key, byTrace] of failed) {
      yield;
      const rate = byTrace.size / traces.length;
      if (rate < 0.05 || byTrace.size < 2) continue;
      const st = stage(key);
      const top = [...(messages.get(key) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
      const message = top[0]?.[0];
      const succeeded = traces.filter((t) => !byTrace.has(t.traceId) && t.stages.has(key));
      const cause = errorCause([...byTrace.values()], succeeded, key);
      const explainsAll = cause !== undefined && cause.failuresWith === cause.failures;
      const causeText =
        cause === undefined
          ? ''
          : `; ${explainsAll ? 'every failing request' : `${cause.failuresWith} of ${cause.failures} failing requests`} ` +
            `had ${cause.attribute} (${cause.successesWith} of ${cause.successes} successful ones did)`;
      const shortMessage =
        message === undefined
          ? undefined
          : message.length > TITLE_MESSAGE_CHARS
            ? `${message.slice(0, TITLE_MESSAGE_CHARS - 1)}…`
            : message;
      // The slowest failing traces first: "Open slowest trace" opens the first.
      const listed = [...byTrace.values()]
        .sort((a, b) => b.t.durationMs - a.t.durationMs)
        .slice(0, 5);
      // The quote comes from the first listed trace that has one, else any failing trace.
      let log: LogQuote | undefined;
      let logAt = Infinity;
      let logged = 0;
      for (const f of byTrace.values()) {
        const q = failingSpanLog(ctx.signals, f.t, f.span, key);
        if (q === undefined) continue;
        logged++;
        const i = listed.indexOf(f);
        const at = i < 0 ? listed.length : i;
        if (at < logAt) {
          log = q;
          logAt = at;
        }
      }
      yield;
      out.push({
        kind: 'errors',
        severity: rate >= 0.1 ? 'critical' : 'warning',
        // An error is worth about a second of latency in the ordering; a cause that explains
        // every failure counts double, so it outranks partial explanations.
        score: rate * traces.length * 1000 * (explainsAll ? 2 : 1),
        // The cause first: the exception can be long.
        title:
          `${st.name} failed in ${pct(rate)} of requests (${byTrace.size} of ${traces.length})` +
          causeText +
          (shortMessage ? `: ${shortMessage}` : '') +
          (log !== undefined ? `; ${log.service} logged ${titleQuote(log)}` : ''),
        stage: st,
        numbers: {
          errorRate: rate,
          failed: byTrace.size,
          traces: traces.length,
          ...(cause !== undefined
            ? {
                cause: cause.attribute,
                causeFailures: cause.failuresWith,
                causeSuccesses: cause.successesWith,
                causeP: cause.p,
              }
            : {}),
          ...(logged > 0 ? { loggedFailures: logged } : {}),
        },
        traceIds: listed.map((x) => x.t.traceId),
        evidence: {
          exceptions: Object.fromEntries(top.slice(0, 5)),
          ...(cause !== undefined ? { cause, explainsAll } : {}),
          ...(log !== undefined ? { log } : {}),
        },
      });
    }
    return out;
  },
};
