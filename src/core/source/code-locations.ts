/**
 * Where received spans say they start: the `code.file.path` / `code.line.number` attributes of
 * the OpenTelemetry semantic conventions (and the older `code.filepath` / `code.lineno`),
 * collected per stage (service, span name) from the spans as they arrive.
 *
 * Attributes live in each span's raw bytes; reading them costs a walk over the attributes, so a
 * stage whose location is established is only sampled (see `SAMPLE_AFTER`), which still notices
 * a location that moves when the code is edited.
 */

import type { SpanRecord } from '../model.js';
import type { AttributeGetter } from '../analysis/queue-waits.js';
import type { TraceEntry } from '../store/trace-store.js';

/** One (stage, file, line) seen in received spans. */
export interface CodeLocation {
  readonly service: string;
  readonly name: string;
  /** The attribute's path, normalised to forward slashes. */
  readonly file: string;
  /** 1-based, as the attribute says. */
  readonly line: number;
  count: number;
  lastSeenMs: number;
}

/** Spans of a stage read in full before the stage is only sampled. */
const SAMPLE_AFTER = 16;
/** One span in this many is read once a stage is sampled. */
const SAMPLE_EVERY = 16;

/** Normalises a path or file URI for comparison: forward slashes, no `file://`, no `./`. */
export function normalizePath(p: string): string {
  let s = p.trim();
  if (s.startsWith('file://')) {
    try {
      s = decodeURIComponent(s.slice('file://'.length));
    } catch {
      s = s.slice('file://'.length);
    }
    // file:///c:/x -> c:/x
    if (/^\/[A-Za-z]:\//.test(s)) s = s.slice(1);
  }
  s = s
    .replace(/\\/g, '/')
    .replace(/\/\.\//g, '/')
    .replace(/\/{2,}/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  // Drive letters compare case-insensitively.
  if (/^[A-Za-z]:\//.test(s)) s = s[0]!.toLowerCase() + s.slice(1);
  return s;
}

function isAbsolute(p: string): boolean {
  return p.startsWith('/') || /^[a-z]:\//.test(p);
}

/**
 * Whether a span's `code.file.path` names the document at `documentPath` (both normalised).
 * Equal paths match; a relative attribute path matches a document path ending with it; an
 * absolute one from another machine or checkout matches when at least the file and its folder
 * agree (`…/demo/stages.ts`), never on the file name alone.
 */
export function pathsMatch(attributePath: string, documentPath: string): boolean {
  if (attributePath === documentPath) return true;
  if (!isAbsolute(attributePath)) {
    return documentPath.endsWith('/' + attributePath) || documentPath === attributePath;
  }
  const a = attributePath.split('/');
  const d = documentPath.split('/');
  let common = 0;
  while (
    common < a.length &&
    common < d.length &&
    a[a.length - 1 - common] === d[d.length - 1 - common] &&
    a[a.length - 1 - common] !== ''
  ) {
    common++;
  }
  return common >= 2;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

interface StageState {
  seen: number;
  readonly locations: CodeLocation[];
}

export interface CodeLocationIndexOptions {
  /** Most (stage, file, line) entries held (default 10,000); the least recently seen go first. */
  maxEntries?: number;
}

/** Code locations of stages, by stage and by file name. */
export class CodeLocationIndex {
  private readonly maxEntries: number;
  private readonly stages = new Map<string, Map<string, StageState>>();
  private readonly byBase = new Map<string, CodeLocation[]>();
  private entries = 0;
  /** Spans of each trace already read: traces only grow, so the rest are new. */
  private readonly done = new WeakMap<TraceEntry, number>();
  /** Bumped when a location is added or removed, so callers can cache on it. */
  version = 0;

  constructor(opts: CodeLocationIndexOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Reads the spans of `trace` not read before. */
  addTrace(trace: TraceEntry, getAttribute: AttributeGetter, nowMs = Date.now()): void {
    const from = this.done.get(trace) ?? 0;
    if (from >= trace.spans.length) return;
    this.addSpans(trace.spans.slice(from), getAttribute, nowMs);
    this.done.set(trace, trace.spans.length);
  }

  addSpans(spans: Iterable<SpanRecord>, getAttribute: AttributeGetter, nowMs = Date.now()): void {
    for (const span of spans) {
      const state = this.stateOf(span.serviceName, span.name);
      state.seen++;
      if (state.seen > SAMPLE_AFTER && state.seen % SAMPLE_EVERY !== 0) continue;
      const file = getAttribute(span, 'code.file.path') ?? getAttribute(span, 'code.filepath');
      if (typeof file !== 'string' || file === '') continue;
      const rawLine = getAttribute(span, 'code.line.number') ?? getAttribute(span, 'code.lineno');
      const line = typeof rawLine === 'string' ? Number(rawLine) : rawLine;
      if (typeof line !== 'number' || !Number.isInteger(line) || line < 1) continue;
      this.note(state, span.serviceName, span.name, normalizePath(file), line, nowMs);
    }
  }

  private stateOf(service: string, name: string): StageState {
    let byName = this.stages.get(service);
    if (byName === undefined) this.stages.set(service, (byName = new Map()));
    let state = byName.get(name);
    if (state === undefined) byName.set(name, (state = { seen: 0, locations: [] }));
    return state;
  }

  private note(
    state: StageState,
    service: string,
    name: string,
    file: string,
    line: number,
    nowMs: number,
  ): void {
    const existing = state.locations.find((l) => l.file === file && l.line === line);
    if (existing !== undefined) {
      existing.count++;
      existing.lastSeenMs = nowMs;
      return;
    }
    const loc: CodeLocation = { service, name, file, line, count: 1, lastSeenMs: nowMs };
    state.locations.push(loc);
    const base = baseName(file);
    let list = this.byBase.get(base);
    if (list === undefined) this.byBase.set(base, (list = []));
    list.push(loc);
    this.entries++;
    this.version++;
    if (this.entries > this.maxEntries) this.evictOldest();
  }

  private evictOldest(): void {
    let oldest: CodeLocation | undefined;
    for (const list of this.byBase.values()) {
      for (const l of list)
        if (oldest === undefined || l.lastSeenMs < oldest.lastSeenMs) oldest = l;
    }
    if (oldest === undefined) return;
    const o = oldest;
    const base = baseName(o.file);
    const list = this.byBase.get(base);
    if (list !== undefined) {
      list.splice(list.indexOf(o), 1);
      if (list.length === 0) this.byBase.delete(base);
    }
    const state = this.stages.get(o.service)?.get(o.name);
    if (state !== undefined) state.locations.splice(state.locations.indexOf(o), 1);
    this.entries--;
    this.version++;
  }

  /** Locations whose file is the document at `documentPath` (a path or file URI). */
  forFile(documentPath: string): CodeLocation[] {
    const doc = normalizePath(documentPath);
    const list = this.byBase.get(baseName(doc));
    return list === undefined ? [] : list.filter((l) => pathsMatch(l.file, doc));
  }

  /** Every location seen for a stage. */
  forStage(service: string, name: string): readonly CodeLocation[] {
    return this.stages.get(service)?.get(name)?.locations ?? [];
  }

  /** The most often seen location of a stage, if any. */
  primary(service: string, name: string): CodeLocation | undefined {
    let best: CodeLocation | undefined;
    for (const l of this.forStage(service, name))
      if (best === undefined || l.count > best.count) best = l;
    return best;
  }

  /** The primary location of every stage that has one. */
  primaries(): CodeLocation[] {
    const out: CodeLocation[] = [];
    for (const [service, byName] of this.stages) {
      for (const name of byName.keys()) {
        const p = this.primary(service, name);
        if (p !== undefined) out.push(p);
      }
    }
    return out;
  }

  clear(): void {
    this.stages.clear();
    this.byBase.clear();
    this.entries = 0;
    this.version++;
  }
}
