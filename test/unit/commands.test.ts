/**
 * The extension's command ids (src/extension/shared/commands.ts) are exactly the commands
 * package.json contributes: a command renamed on one side only would register nothing, or
 * leave a palette entry that fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../src/extension/shared/commands.js';
import { WATERFALL_VIEW_TYPE } from '../../src/extension/waterfall/view-type.js';

test('COMMANDS matches contributes.commands', () => {
  const pkg = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
  ) as {
    contributes: { commands: Array<{ command: string }> };
  };
  const contributed = pkg.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(Object.values(COMMANDS).sort(), contributed);
});

test('the waterfall panel activates the extension when VS Code restores it', () => {
  const pkg = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
  ) as { activationEvents: string[] };
  assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${WATERFALL_VIEW_TYPE}`));
  // The receiver restarts after a reload from `onStartupFinished` (core/receiver/run-memory.ts).
  assert.ok(pkg.activationEvents.includes('onStartupFinished'));
});
