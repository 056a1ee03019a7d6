/**
 * The editor languages the scaffolding writes for (src/core/scaffold/languages.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCAFFOLD_LANGUAGE_IDS,
  scaffoldLanguage,
  scaffoldLanguageOfFile,
} from '../../src/core/scaffold/languages.js';

test('language ids map onto the five languages', () => {
  assert.equal(scaffoldLanguage('typescriptreact'), 'typescript');
  assert.equal(scaffoldLanguage('javascriptreact'), 'javascript');
  assert.equal(scaffoldLanguage('rust'), undefined);
  for (const id of SCAFFOLD_LANGUAGE_IDS) assert.ok(scaffoldLanguage(id), id);
});

test('file extensions map onto the five languages, case aside', () => {
  assert.equal(scaffoldLanguageOfFile('pipeline.py'), 'python');
  assert.equal(scaffoldLanguageOfFile('src/App.TSX'), 'typescript');
  assert.equal(scaffoldLanguageOfFile('worker.cjs'), 'javascript');
  assert.equal(scaffoldLanguageOfFile('main.go'), 'go');
  assert.equal(scaffoldLanguageOfFile('C:\\src\\Pipeline.java'), 'java');
  assert.equal(scaffoldLanguageOfFile('lib.rs'), undefined);
  assert.equal(scaffoldLanguageOfFile('Makefile'), undefined);
  // A dot in a folder name is no extension.
  assert.equal(scaffoldLanguageOfFile('my.py/README'), undefined);
});
