/**
 * The key of a stage, (service name, span name), and of an operation (a root stage): one
 * spelling for every map in the core, the editor and the webview.
 *
 * A JSON array, so it is unambiguous for any strings (a separator character could appear in a
 * name) and reads back with {@link parseStageKey}. Hot paths cache keys rather than build them.
 */

/** Opaque, unambiguous key of a stage; build it with {@link stageKey}. */
export type StageKey = string;

/** Keys already built, by service then name: the analysis asks for one per span. Bounded. */
const built = new Map<string, Map<string, StageKey>>();
let builtCount = 0;
const BUILT_MAX = 20_000;

/** Builds the key of (service, name). */
export function stageKey(service: string, name: string): StageKey {
  let byName = built.get(service);
  let key = byName?.get(name);
  if (key !== undefined) return key;
  key = JSON.stringify([service, name]);
  if (builtCount >= BUILT_MAX) {
    built.clear();
    builtCount = 0;
    byName = undefined;
  }
  if (byName === undefined) built.set(service, (byName = new Map()));
  byName.set(name, key);
  builtCount++;
  return key;
}

/** Inverse of {@link stageKey}; undefined for a string it did not make. */
export function parseStageKey(key: StageKey): { service: string; name: string } | undefined {
  if (!key.startsWith('["')) return undefined;
  try {
    const parsed: unknown = JSON.parse(key);
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return { service: parsed[0], name: parsed[1] };
    }
  } catch {
    // Not one of ours.
  }
  return undefined;
}

/** The stage of a key that is known to be one (from {@link stageKey}). */
export function stageOf(key: StageKey): { service: string; name: string } {
  return parseStageKey(key) ?? { service: '', name: key };
}
