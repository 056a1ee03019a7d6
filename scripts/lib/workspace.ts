/** Fresh copies of the fixture workspace, so tests that edit or save files never touch git. */
import { cpSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const fixtureWorkspace = join(repoRoot, 'test', 'fixtures', 'workspace');

/** Copies `test/fixtures/workspace` into a new folder under `parent` and returns its path. */
export function copyFixtureWorkspace(parent: string): string {
  const dir = join(mkdtempSync(join(parent, 'ws-')), 'workspace');
  cpSync(fixtureWorkspace, dir, { recursive: true });
  return dir;
}
