/**
 * The editor languages the scaffolding writes for (src/core/scaffold/languages.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCAFFOLD_LANGUAGE_IDS, scaffoldLanguage } from '../../src/core/scaffold/languages.js';

test('language ids map onto the five languages', () => {
  assert.equal(scaffoldLanguage('typescriptreact'), 'typescript');
  assert.equal(scaffoldLanguage('javascriptreact'), 'javascript');
  assert.equal(scaffoldLanguage('rust'), undefined);
  for (const id of SCAFFOLD_LANGUAGE_IDS) assert.ok(scaffoldLanguage(id), id);
});
