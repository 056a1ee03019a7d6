/**
 * Specs written ahead of the features they check. They are left out of `npm test` (each run
 * prints them as "pending: ...") until the feature lands; run them on purpose with `--pending` or
 * by naming them, and they fail naming what is missing. Remove an entry when its feature lands.
 */

/** Integration spec name (`test/integration/suite/<name>.test.ts`) -> what it waits for. */
export const pendingIntegrationSpecs: Readonly<Record<string, string>> = {};

/** E2E spec name (`test/e2e/<name>.test.ts`) -> what it waits for. */
export const pendingE2eSpecs: Readonly<Record<string, string>> = {};

/** Prints the pending list the way both runners do. */
export function printPending(list: Readonly<Record<string, string>>, layer: string): void {
  for (const [name, why] of Object.entries(list)) {
    console.log(`pending: ${layer} ${name} (waits for ${why})`);
  }
}
