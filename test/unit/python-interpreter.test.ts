import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  chooseInterpreter,
  commandLine,
  quoteArg,
  shellKind,
  venvInterpreter,
  withInterpreter,
} from '../../src/core/scaffold/python-interpreter.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-python-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A workspace folder, with a fake interpreter in each of `venvs`. */
function workspace(name: string, venvs: string[]): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const v of venvs) {
    const exe = venvInterpreter(path.join(dir, v), process.platform);
    mkdirSync(path.dirname(exe), { recursive: true });
    writeFileSync(exe, '');
  }
  return dir;
}

describe('chooseInterpreter', () => {
  test("the Python extension's selected environment wins over everything", () => {
    const dir = workspace('selected', ['.venv']);
    assert.deepEqual(
      chooseInterpreter({ selected: '/opt/py/bin/python', defaultInterpreterPath: '/x' }, [dir]),
      {
        command: '/opt/py/bin/python',
        source: 'python-extension',
      },
    );
  });

  test('python.defaultInterpreterPath next, with ${workspaceFolder} replaced', () => {
    const dir = workspace('setting', ['.venv']);
    const r = chooseInterpreter({ defaultInterpreterPath: '${workspaceFolder}/env/bin/python' }, [
      dir,
    ]);
    assert.deepEqual(r, { command: `${dir}/env/bin/python`, source: 'setting' });
  });

  test("the setting's default `python` means unset: the workspace's .venv is used", () => {
    const dir = workspace('default-setting', ['.venv']);
    const r = chooseInterpreter({ defaultInterpreterPath: 'python', selected: ' ' }, [dir]);
    assert.deepEqual(r, {
      command: venvInterpreter(path.join(dir, '.venv'), process.platform),
      source: 'venv',
    });
  });

  test('.venv before venv; the project root before the workspace folder', () => {
    const root = workspace('ws/project', ['venv']);
    const folder = workspace('ws', ['.venv', 'venv']);
    assert.equal(
      chooseInterpreter({}, [folder]).command,
      venvInterpreter(path.join(folder, '.venv'), process.platform),
    );
    assert.equal(
      chooseInterpreter({}, [root, folder]).command,
      venvInterpreter(path.join(root, 'venv'), process.platform),
    );
  });

  test('no virtual environment: python3 (python on Windows)', () => {
    const dir = workspace('bare', []);
    assert.deepEqual(chooseInterpreter({}, [dir], 'linux'), {
      command: 'python3',
      source: 'default',
    });
    assert.deepEqual(chooseInterpreter({}, [], 'darwin'), {
      command: 'python3',
      source: 'default',
    });
    assert.deepEqual(
      chooseInterpreter({}, [dir], 'win32', () => false),
      {
        command: 'python',
        source: 'default',
      },
    );
  });

  test('Windows looks for Scripts\\python.exe', () => {
    const seen: string[] = [];
    const r = chooseInterpreter({}, ['C:\\work\\app'], 'win32', (f) => {
      seen.push(f);
      return f === 'C:\\work\\app\\venv\\Scripts\\python.exe';
    });
    assert.deepEqual(seen, [
      'C:\\work\\app\\.venv\\Scripts\\python.exe',
      'C:\\work\\app\\venv\\Scripts\\python.exe',
    ]);
    assert.deepEqual(r, { command: 'C:\\work\\app\\venv\\Scripts\\python.exe', source: 'venv' });
  });
});

describe('withInterpreter', () => {
  const pip = 'python -m pip install opentelemetry-api opentelemetry-sdk';

  test('the pip command runs with the chosen interpreter', () => {
    assert.equal(
      withInterpreter(pip, '/w/.venv/bin/python', 'posix'),
      '/w/.venv/bin/python -m pip install opentelemetry-api opentelemetry-sdk',
    );
    assert.equal(
      withInterpreter(pip, '/my work/.venv/bin/python', 'posix'),
      "'/my work/.venv/bin/python' -m pip install opentelemetry-api opentelemetry-sdk",
    );
    assert.equal(
      withInterpreter(pip, 'C:\\my work\\.venv\\Scripts\\python.exe', 'powershell'),
      "& 'C:\\my work\\.venv\\Scripts\\python.exe' -m pip install opentelemetry-api opentelemetry-sdk",
    );
  });

  test('tools that manage their own environment are left alone', () => {
    for (const c of ['uv add opentelemetry-api', 'poetry add x', 'pipenv install x', 'pdm add x'])
      assert.equal(withInterpreter(c, '/w/.venv/bin/python', 'posix'), c);
  });
});

test('quoting for the terminal', () => {
  assert.equal(quoteArg('a/b.py', 'posix'), 'a/b.py');
  assert.equal(quoteArg("it's here.py", 'posix'), `'it'\\''s here.py'`);
  assert.equal(quoteArg('C:\\a\\b.py', 'posix'), `'C:\\a\\b.py'`);
  assert.equal(quoteArg('C:\\a\\b.py', 'powershell'), 'C:\\a\\b.py');
  assert.equal(quoteArg("it's.py", 'powershell'), "'it''s.py'");
  assert.equal(
    commandLine(['npx', 'tsx', 'src/main app.ts'], 'posix'),
    "npx tsx 'src/main app.ts'",
  );
  assert.equal(
    commandLine(['C:\\Program Files\\py.exe', 'x.py'], 'powershell'),
    "& 'C:\\Program Files\\py.exe' x.py",
  );
  assert.equal(quoteArg('C:\\my work\\x.py', 'cmd'), '"C:\\my work\\x.py"');
  assert.equal(
    commandLine(['C:\\Program Files\\py.exe', 'x.py'], 'cmd'),
    '"C:\\Program Files\\py.exe" x.py',
  );
});

test('shellKind', () => {
  assert.equal(shellKind('/bin/bash'), 'posix');
  assert.equal(shellKind('/usr/bin/zsh'), 'posix');
  assert.equal(
    shellKind('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'),
    'powershell',
  );
  assert.equal(shellKind('C:\\Program Files\\PowerShell\\7\\pwsh.exe'), 'powershell');
  assert.equal(shellKind('C:\\Windows\\System32\\cmd.exe'), 'cmd');
  assert.equal(shellKind('C:\\Program Files\\Git\\bin\\bash.exe'), 'posix');
});
