/**
 * Joins a document's span-start sites and the code locations received spans report with the
 * per-stage statistics: which line shows which stage's latency.
 *
 * A stage is (service, span name), but the source only names the span. When several services
 * use one name the stage is chosen by, in order: the services whose spans report this file in
 * `code.file.path`; services that report no file at all (a service whose spans all point at
 * another file is ruled out); a service name written as a string literal in the document (its
 * tracer or resource setup). When that still leaves more than one, the line gets no lens: say
 * nothing rather than something wrong.
 */

import type { StageStats } from '../analysis/stage-stats.js';
import { normalizePath, pathsMatch, type CodeLocationIndex } from './code-locations.js';
import type { DocumentScan } from './span-starts.js';

/** A line that shows a stage's statistics. */
export interface StageLine {
  /** 0-based. */
  readonly line: number;
  readonly stage: StageStats;
  /** Why: a span-start call on the line, or the `code.*` attributes of received spans. */
  readonly origin: 'call' | 'code';
}

/** Stage statistics by span name, built once per statistics snapshot. */
export type StagesByName = ReadonlyMap<string, readonly StageStats[]>;

export function indexStagesByName(stats: readonly StageStats[]): StagesByName {
  const byName = new Map<string, StageStats[]>();
  for (const s of stats) {
    const list = byName.get(s.name);
    if (list === undefined) byName.set(s.name, [s]);
    else list.push(s);
  }
  return byName;
}

export interface MatchInput {
  /** The document's path (or file URI). */
  readonly path: string;
  readonly lineCount: number;
  readonly scan: DocumentScan;
  readonly stages: StagesByName;
  readonly locations: CodeLocationIndex;
}

/**
 * The stage of a span name written in the document, or undefined when none or several fit.
 */
export function pickStage(
  candidates: readonly StageStats[],
  docPath: string,
  literals: ReadonlySet<string>,
  locations: CodeLocationIndex,
): StageStats | undefined {
  const here: StageStats[] = [];
  const unknown: StageStats[] = [];
  for (const c of candidates) {
    const locs = locations.forStage(c.service, c.name);
    if (locs.length === 0) unknown.push(c);
    else if (locs.some((l) => pathsMatch(l.file, docPath))) here.push(c);
    // else: this service's spans start in another file.
  }
  if (here.length === 1) return here[0];
  const possible = here.length > 1 ? here : unknown;
  if (possible.length === 1) return possible[0];
  const named = possible.filter((c) => literals.has(c.service));
  return named.length === 1 ? named[0] : undefined;
}

/** The stage lines of a document, by line. At most one stage per line. */
export function matchStageLines(input: MatchInput): StageLine[] {
  const docPath = normalizePath(input.path);
  const { scan, stages, locations } = input;
  const out = new Map<number, StageLine>();
  const shown = new Set<string>();
  for (const site of scan.sites) {
    if (out.has(site.line)) continue;
    const candidates = stages.get(site.name);
    if (candidates === undefined) continue;
    const stage = pickStage(candidates, docPath, scan.literals, locations);
    if (stage === undefined) continue;
    out.set(site.line, { line: site.line, stage, origin: 'call' });
    shown.add(stage.key);
  }
  // Lines named by received spans, for starts the scan cannot see (a name built at run time, a
  // wrapper function, a language without patterns). A call site already showing the stage wins,
  // and a line whose call names another span is stale (the file was edited): both say nothing.
  const sitesByLine = new Map<number, string[]>();
  for (const s of scan.sites) {
    const list = sitesByLine.get(s.line);
    if (list === undefined) sitesByLine.set(s.line, [s.name]);
    else list.push(s.name);
  }
  const candidatesByLine = new Map<number, StageStats[]>();
  for (const loc of locations.forFile(docPath)) {
    const line = loc.line - 1;
    if (line >= input.lineCount || out.has(line)) continue;
    const stage = stages.get(loc.name)?.find((s) => s.service === loc.service);
    if (stage === undefined || shown.has(stage.key)) continue;
    const names = sitesByLine.get(line);
    if (names !== undefined && !names.includes(loc.name)) continue;
    const list = candidatesByLine.get(line);
    if (list === undefined) candidatesByLine.set(line, [stage]);
    else if (!list.includes(stage)) list.push(stage);
  }
  for (const [line, list] of candidatesByLine) {
    // Two stages claiming one line (two services running the same file): ambiguous.
    if (list.length !== 1) continue;
    out.set(line, { line, stage: list[0]!, origin: 'code' });
  }
  return [...out.values()].sort((a, b) => a.line - b.line);
}
