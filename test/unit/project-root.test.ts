/**
 * Project roots on a real folder tree (src/core/scaffold/project-root.ts): the nearest folder
 * with a manifest of the file's language, else the workspace folder or the file's own.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot, projectFiles } from '../../src/core/scaffold/project-root.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-project-root-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('project root', () => {
  const ws = path.join(tmp, 'ws');
  const write = (rel: string, text = ''): string => {
    const f = path.join(ws, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    return f;
  };
  write('package.json', '{"name":"monorepo"}');
  write('services/ranker/pyproject.toml', '[project]\nname = "ranker"\n');
  const py = write('services/ranker/src/ranker/model.py');
  write('tools/requirements-dev.txt');
  const tool = write('tools/x/run.py');
  const loose = write('scratch/a.go');
  const outside = path.join(tmp, 'elsewhere', 'b.py');
  mkdirSync(path.dirname(outside), { recursive: true });
  writeFileSync(outside, '');

  test('the nearest folder with a marker of the language', () => {
    assert.equal(findProjectRoot('python', py, ws), path.join(ws, 'services', 'ranker'));
    assert.equal(findProjectRoot('python', tool, ws), path.join(ws, 'tools'));
    assert.equal(findProjectRoot('typescript', py, ws), ws);
  });
  test('no marker: the workspace folder; outside any folder: the file folder', () => {
    assert.equal(findProjectRoot('go', loose, ws), ws);
    assert.equal(findProjectRoot('python', outside, ws), path.dirname(outside));
    assert.equal(findProjectRoot('python', outside, undefined), path.dirname(outside));
  });
  test("the root's files, and a reader for its manifests only", () => {
    const files = projectFiles(path.join(ws, 'services', 'ranker'));
    assert.deepEqual([...files.files].sort(), ['pyproject.toml', 'src']);
    assert.match(files.read('pyproject.toml') ?? '', /name = "ranker"/);
    assert.equal(files.read('setup.py'), undefined);
    assert.deepEqual(projectFiles(undefined).files, []);
  });
});
