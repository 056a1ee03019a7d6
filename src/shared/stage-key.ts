/**
 * The key of a stage, (service name, span name), and of an operation (a root stage): one
 * spelling for every map in the core, the editor and the webview.
 *
 * A JSON array, so it is unambiguous for any strings (a separator character could appear in a
 * name) and reads back with {@link parseStageKey}. Hot paths cache keys rather than build them.
 */

/** Opaque, unambiguous key of a stage; build it with {@link stageKey}. */
export type StageKey = string;

/** Builds the key of (service, name). */
export function stageKey(service: string, name: string): StageKey {
  return JSON.stringify([service, name]);
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
