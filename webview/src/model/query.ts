/**
 * The search box's little language. Terms are ANDed; each is one of
 *   text              name or service contains it (case-insensitive)
 *   name:text         span name contains it
 *   service:text      service contains it (also `svc:`)
 *   dur>100ms         duration compared with a value (`>`, `>=`, `<`, `<=`); units ns, us, ms, s, m
 *   self>20ms         self time
 *   share>10%         share of the trace on the critical path (also `share>0.1`)
 *   is:error  is:critical  is:orphan  is:adopted  has:source  is:haslog (wrote log lines)
 *   log:"text"        the span wrote a log line containing the text (body, severity, event name or
 *                     an attribute value); also `log:word`. The host answers it, as `attr:`.
 *   level:warn        the span wrote a line at that severity or above (trace, debug, info, warn,
 *                     error, fatal, or a severity number 1-24), from the payload's `logSeverity`
 *   kind:server       OTLP span kind (internal, server, client, producer, consumer)
 *   attr:key=value    an attribute whose key contains `key` and value contains `value`; also a
 *                     bare `key=value`, or `attr:key` for the key alone. The payload holds no
 *                     attributes: the host answers these (AttributeSearchRequest).
 * A leading `-` negates a term. Text may be quoted ("two words"). A term that cannot be read
 * (`dur>1x`, `is:nope`, `attr=`) matches nothing by itself: it is left out and listed in
 * `Query.errors`, and `queryErrorMessage` says why.
 * Everything works on the columnar payload, so a filter over 1M spans is one pass.
 */

import { SpanFlag, type AttributeTerm } from '../../../src/protocol/messages.js';
import { parseSeverity, SEVERITY_LEVELS } from '../../../src/shared/log-match.js';
import type { TraceModel } from './trace-model.js';

type Cmp = '>' | '>=' | '<' | '<=';

export type Term =
  | { kind: 'text'; field: 'any' | 'name' | 'service'; text: string; negate: boolean }
  | {
      kind: 'number';
      field: 'duration' | 'self' | 'share';
      cmp: Cmp;
      value: number;
      negate: boolean;
    }
  | { kind: 'flag'; flag: number; negate: boolean }
  | { kind: 'spanKind'; spanKind: number; negate: boolean }
  | { kind: 'logLevel'; min: number; negate: boolean }
  | { kind: 'attribute'; key: string; value?: string; negate: boolean; in?: 'log' };

export interface Query {
  terms: Term[];
  /** Terms that could not be read, shown to the user. */
  errors: string[];
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000 };
const KINDS: Record<string, number> = {
  unspecified: 0,
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};
const FLAGS: Record<string, number> = {
  'is:error': SpanFlag.ERROR,
  'is:critical': SpanFlag.CRITICAL,
  'is:orphan': SpanFlag.ORPHAN,
  'is:adopted': SpanFlag.ADOPTED,
  'is:skewed': SpanFlag.CLOCK_ADJUSTED,
  'has:source': SpanFlag.HAS_SOURCE,
  'is:haslog': SpanFlag.HAS_LOG,
};

/** `table[key]`, own keys only: a search for "constructor" is text, not `Object.prototype`'s. */
function lookup<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Splits on whitespace, keeping "quoted strings" together. */
function tokens(input: string): string[] {
  const out: string[] = [];
  const re = /(-?)(?:([a-z:]+)?"([^"]*)"|(\S+))/gi;
  for (let m = re.exec(input); m !== null; m = re.exec(input)) {
    out.push(m[4] !== undefined ? `${m[1]}${m[4]}` : `${m[1]}${m[2] ?? ''}\u0000${m[3] ?? ''}`);
  }
  return out;
}

const FLAG_LIST = Object.keys(FLAGS).join(', ');
const KIND_LIST = Object.keys(KINDS)
  .filter((k) => k !== 'unspecified')
  .join(', ');
/** What each comparable field takes, for the messages: a noun and examples that read. */
const NUMBER_HINTS: Record<string, { noun: string; examples: string }> = {
  dur: { noun: 'a duration', examples: 'dur>1.5s or dur>200ms' },
  duration: { noun: 'a duration', examples: 'duration>1.5s or duration>200ms' },
  self: { noun: 'a duration', examples: 'self>20ms' },
  share: { noun: 'a share of the trace', examples: 'share>10% or share>0.1' },
};

/** A term that could not be read: why, in one line that names the term as typed. */
interface Unreadable {
  error: string;
}

/**
 * Reads one token (no leading `-`; a quoted token is handled by the caller). Invariant: a token
 * that is not unreadable reads exactly as the grammar above says, so every query that worked
 * before the messages existed still reads the same; only tokens that could never match (an
 * unknown unit or flag, a comparison without a number, `attr` without a key) are unreadable.
 */
function readTerm(tok: string, negate: boolean): Term | Unreadable {
  const lower = tok.toLowerCase();
  // "dur>1x: not a duration"; a term that ends in a colon names itself: "attr: needs a key".
  const said = tok.endsWith(':') ? tok : `${tok}:`;
  const flag = lookup(FLAGS, lower);
  if (flag !== undefined) return { kind: 'flag', flag, negate };
  const flagLike = /^(?:is|has):(.*)$/.exec(lower);
  if (flagLike !== null) {
    const why = flagLike[1] === '' ? 'needs a flag' : 'unknown flag';
    return { error: `${said} ${why} (${FLAG_LIST})` };
  }
  const cmp = /^(dur|duration|self|share)(>=|<=|>|<|:)(.*)$/.exec(lower);
  if (cmp !== null) {
    const name = cmp[1] as string;
    const hint = NUMBER_HINTS[name] as { noun: string; examples: string };
    if (cmp[2] === ':') {
      const typed = cmp[3] === '' ? hint.examples : `${name}>${cmp[3]}`;
      return { error: `${said} compare with >, >=, < or <= (try ${typed})` };
    }
    const num = /^([0-9.]+)(ns|us|µs|ms|s|m|%)?$/.exec(cmp[3] as string);
    const value = num !== null ? Number(num[1]) : NaN;
    const unit = num?.[2];
    const field = name === 'self' ? 'self' : name === 'share' ? 'share' : 'duration';
    const notA = { error: `${said} not ${hint.noun} (try ${hint.examples})` };
    if (!Number.isFinite(value)) return notA;
    if (field === 'share') {
      if (unit !== undefined && unit !== '%') return notA;
      return {
        kind: 'number',
        field,
        cmp: cmp[2] as Cmp,
        value: unit === '%' || value > 1 ? value / 100 : value,
        negate,
      };
    }
    if (unit === '%') return notA;
    const ms = value * (UNITS[unit ?? 'ms'] ?? 1);
    return { kind: 'number', field, cmp: cmp[2] as Cmp, value: ms, negate };
  }
  const kv = /^(name|service|svc|kind):(.*)$/.exec(lower);
  if (kv !== null) {
    const v = kv[2] ?? '';
    if (kv[1] === 'kind') {
      const k = lookup(KINDS, v);
      if (k !== undefined) return { kind: 'spanKind', spanKind: k, negate };
      return {
        error: `${said} ${v === '' ? 'needs a span kind' : 'unknown span kind'} (${KIND_LIST})`,
      };
    }
    // An empty `name:` is a term still being typed: it filters nothing.
    if (v === '') return { kind: 'text', field: 'any', text: '', negate };
    return { kind: 'text', field: kv[1] === 'name' ? 'name' : 'service', text: v, negate };
  }
  if (lower.startsWith('level:')) {
    const min = parseSeverity(lower.slice(6));
    if (min === undefined || min === 0) {
      return { error: `${said} needs a severity (${SEVERITY_LEVELS.join(', ').toLowerCase()})` };
    }
    return { kind: 'logLevel', min, negate };
  }
  if (lower.startsWith('log:')) {
    if (tok.length === 4) return { error: `${said} needs a text (try log:"out of memory")` };
    return { kind: 'attribute', key: tok.slice(4), negate, in: 'log' };
  }
  if (/^attr(=|:=|:$)/.test(lower)) {
    return {
      error: `${said} ${lower.startsWith('attr=') ? 'write attr:key=value' : 'needs a key'} (try attr:model.name=bert or attr:model.name)`,
    };
  }
  const attr = /^(?:attr:)?([^=:\s][^=\s]*?)(?:=(.*))?$/.exec(tok);
  if (attr !== null && (lower.startsWith('attr:') || tok.includes('='))) {
    const value = attr[2];
    return {
      kind: 'attribute',
      key: attr[1] ?? '',
      ...(value !== undefined && value !== '' ? { value } : {}),
      negate,
    };
  }
  return { kind: 'text', field: 'any', text: lower, negate };
}

export function parseQuery(input: string): Query {
  const terms: Term[] = [];
  const errors: string[] = [];
  for (let tok of tokens(input)) {
    let negate = false;
    if (tok.startsWith('-') && tok.length > 1) {
      negate = true;
      tok = tok.slice(1);
    }
    // A quoted token came back as prefix \0 text: never a number or flag term.
    const quoted = tok.indexOf('\u0000');
    if (quoted >= 0) {
      const prefix = tok.slice(0, quoted).toLowerCase();
      const text = tok.slice(quoted + 1).toLowerCase();
      if (prefix === 'log:') {
        if (text !== '') terms.push({ kind: 'attribute', key: text, negate, in: 'log' });
        continue;
      }
      const field =
        prefix === 'name:'
          ? 'name'
          : prefix === 'service:' || prefix === 'svc:'
            ? 'service'
            : 'any';
      if (text !== '') terms.push({ kind: 'text', field, text, negate });
      continue;
    }
    const t = readTerm(tok, negate);
    if ('error' in t) errors.push(tok);
    else if (t.kind !== 'text' || t.text !== '') terms.push(t);
  }
  return { terms, errors };
}

/**
 * Why `term` (one of `Query.errors`) could not be read, in one line: the term, what is wrong
 * and an example that works, e.g. "dur>1x: not a duration (try dur>1.5s or dur>200ms)".
 * '' for a term that reads.
 */
export function queryErrorMessage(term: string): string {
  const t = readTerm(term, false);
  return 'error' in t ? t.error : '';
}

export function isEmptyQuery(q: Query): boolean {
  return q.terms.length === 0;
}

function compare(a: number, cmp: Cmp, b: number): boolean {
  switch (cmp) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

/** The query's attribute and log terms, which the host evaluates. */
export function attributeTerms(q: Query): AttributeTerm[] {
  const out: AttributeTerm[] = [];
  for (const t of q.terms) {
    if (t.kind === 'attribute') {
      out.push({
        key: t.key,
        ...(t.value !== undefined ? { value: t.value } : {}),
        negate: t.negate,
        ...(t.in !== undefined ? { in: t.in } : {}),
      });
    }
  }
  return out;
}

/**
 * The rows matching every term, as a 0/1 mask, and their count. Text terms are decided once
 * per distinct name/service (the interned tables), not once per row. `attributeRows` is the
 * host's answer for the attribute terms (all of them combined); without it those terms are not
 * applied yet.
 */
export function matchQuery(
  model: TraceModel,
  q: Query,
  attributeRows?: readonly number[],
): { mask: Uint8Array; count: number } {
  const p = model.payload;
  const n = model.rowCount;
  const mask = new Uint8Array(n).fill(1);
  if (attributeRows !== undefined && q.terms.some((t) => t.kind === 'attribute')) {
    const hit = new Uint8Array(n);
    for (const r of attributeRows) if (r >= 0 && r < n) hit[r] = 1;
    for (let i = 0; i < n; i++) if (hit[i] === 0) mask[i] = 0;
  }
  for (const term of q.terms) {
    if (term.kind === 'attribute') continue;
    if (term.kind === 'text') {
      const nameHit = model.namesLower.map((s) => s.includes(term.text));
      const svcHit = model.servicesLower.map((s) => s.includes(term.text));
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0) continue;
        const byName = term.field !== 'service' && nameHit[p.name[i] as number] === true;
        const bySvc = term.field !== 'name' && svcHit[p.service[i] as number] === true;
        if ((byName || bySvc) === term.negate) mask[i] = 0;
      }
    } else if (term.kind === 'number') {
      const col =
        term.field === 'self' ? p.selfMs : term.field === 'share' ? p.criticalMs : p.duration;
      const scale = term.field === 'share' ? (p.durationMs > 0 ? 1 / p.durationMs : 0) : 1;
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0) continue;
        if (compare((col[i] as number) * scale, term.cmp, term.value) === term.negate) mask[i] = 0;
      }
    } else if (term.kind === 'flag') {
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0) continue;
        if ((((p.flags[i] as number) & term.flag) !== 0) === term.negate) mask[i] = 0;
      }
    } else if (term.kind === 'logLevel') {
      const sev = p.logSeverity;
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0) continue;
        if ((sev?.[i] ?? 0) >= term.min === term.negate) mask[i] = 0;
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0) continue;
        if ((p.kind[i] === term.spanKind) === term.negate) mask[i] = 0;
      }
    }
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += mask[i] as number;
  return { mask, count };
}
