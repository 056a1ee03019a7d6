/**
 * Python zero-code instrumentation (src/core/scaffold/python-zero-code.ts, addZeroCodeSetup):
 * the marker comment, the requirement edits of requirements.txt and pyproject.toml (kept as the
 * user wrote them, nothing listed twice, malformed and hostile manifests left alone), when Run
 * with Tracing starts a file under the instrumenter, and the command line and environment it
 * uses.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ZERO_CODE_MARKER,
  normalizeRequirementName,
  pythonRunsZeroCode,
  pythonZeroCodeSetup,
  requirementEdits,
  requirementsTxtNames,
  setsTracerProvider,
} from '../../src/core/scaffold/python-zero-code.js';
import { addZeroCodeSetup, applyEdits, type ProjectFiles } from '../../src/core/scaffold/index.js';
import { runCommand, runCommandLine, zeroCodeTracingEnv } from '../../src/core/scaffold/run-env.js';

const PACKAGES = ['opentelemetry-distro', 'opentelemetry-exporter-otlp'];

function files(map: Record<string, string>): ProjectFiles {
  return { files: Object.keys(map), read: (n) => map[n] };
}

/** The manifest's text after the edits, or undefined when it was left alone. */
function edited(map: Record<string, string>, file: string): string | undefined {
  const { manifests } = requirementEdits(files(map), PACKAGES);
  const m = manifests.find((x) => x.file === file);
  return m === undefined ? undefined : applyEdits(map[file]!, m.edits);
}

describe('the marker comment', () => {
  test('goes first, after a shebang and an encoding line; nothing else changes', () => {
    const text = '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n"""Doc."""\nimport os\n';
    const r = pythonZeroCodeSetup(text);
    assert.equal(r.status, 'edited');
    assert.equal(
      applyEdits(text, r.edits),
      `#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n${ZERO_CODE_MARKER}\n"""Doc."""\nimport os\n`,
    );
    const plain = 'import os\n';
    assert.equal(
      applyEdits(plain, pythonZeroCodeSetup(plain).edits),
      `${ZERO_CODE_MARKER}\n${plain}`,
    );
  });

  test('keeps CRLF, a byte order mark, and works on an empty file or one without a newline', () => {
    const crlf = '\ufeffimport os\r\n';
    assert.equal(
      applyEdits(crlf, pythonZeroCodeSetup(crlf).edits),
      `\ufeff${ZERO_CODE_MARKER}\r\nimport os\r\n`,
    );
    assert.equal(applyEdits('', pythonZeroCodeSetup('').edits), `${ZERO_CODE_MARKER}\n`);
    const bang = '#!/usr/bin/python';
    assert.equal(
      applyEdits(bang, pythonZeroCodeSetup(bang).edits),
      `${bang}\n${ZERO_CODE_MARKER}\n`,
    );
  });

  test('the second run and a file with a provider in code are refused', () => {
    const once = applyEdits('x = 1\n', pythonZeroCodeSetup('x = 1\n').edits);
    const again = pythonZeroCodeSetup(once);
    assert.equal(again.status, 'already-instrumented');
    assert.deepEqual(again.edits, []);
    const manual = 'from opentelemetry import trace\ntrace.set_tracer_provider(TracerProvider())\n';
    const r = pythonZeroCodeSetup(manual);
    assert.equal(r.status, 'already-instrumented');
    assert.match(r.messages[0]!.text, /second one/);
  });

  test('a provider named only in a comment is no setup', () => {
    assert.equal(setsTracerProvider('# we used TracerProvider() once\nx = 1\n'), false);
    assert.equal(setsTracerProvider('p = sdk.TracerProvider(resource=r)\n'), true);
  });
});

describe('requirements.txt', () => {
  test('gets the missing packages at its end, in its line endings', () => {
    assert.equal(
      edited({ 'requirements.txt': 'numpy==2.1\n' }, 'requirements.txt'),
      'numpy==2.1\nopentelemetry-distro\nopentelemetry-exporter-otlp\n',
    );
    assert.equal(
      edited({ 'requirements.txt': 'numpy\r\ntorch' }, 'requirements.txt'),
      'numpy\r\ntorch\r\nopentelemetry-distro\r\nopentelemetry-exporter-otlp\r\n',
    );
    assert.equal(
      edited({ 'requirements.txt': '' }, 'requirements.txt'),
      'opentelemetry-distro\nopentelemetry-exporter-otlp\n',
    );
  });

  test('a package listed in any spelling, version or extras is not added again', () => {
    const text =
      '# deps\nOpenTelemetry_Distro[otlp]>=0.50 ; python_version >= "3.9"\n-r base.txt\n--index-url https://x\n';
    assert.equal(
      edited({ 'requirements.txt': text }, 'requirements.txt'),
      `${text}opentelemetry-exporter-otlp\n`,
    );
    const both = 'opentelemetry.distro\nopentelemetry-exporter-otlp==1.45.1  # pinned\n';
    assert.equal(edited({ 'requirements.txt': both }, 'requirements.txt'), undefined);
    assert.deepEqual(
      [...requirementsTxtNames(both)],
      ['opentelemetry-distro', 'opentelemetry-exporter-otlp'],
    );
    assert.equal(normalizeRequirementName('Foo__Bar.baz'), 'foo-bar-baz');
  });

  test('a hostile file (binary bytes, a huge line) is appended to, never rewritten', () => {
    const text = `\u0000\u0001garbage\n${'x'.repeat(200_000)}`;
    const out = edited({ 'requirements.txt': text }, 'requirements.txt')!;
    assert.ok(out.startsWith(text), 'what was there is kept');
    assert.ok(out.endsWith('\nopentelemetry-distro\nopentelemetry-exporter-otlp\n'));
  });
});

describe('pyproject.toml', () => {
  test('a multi-line [project] dependencies list gets one entry per line', () => {
    const text = `[project]\nname = "rank"\ndependencies = [\n  "numpy>=2",\n  "torch"  # gpu\n]\n\n[tool.ruff]\nline-length = 100\n`;
    assert.equal(
      edited({ 'pyproject.toml': text }, 'pyproject.toml'),
      `[project]\nname = "rank"\ndependencies = [\n  "numpy>=2",\n  "torch",  # gpu\n  "opentelemetry-distro",\n  "opentelemetry-exporter-otlp",\n]\n\n[tool.ruff]\nline-length = 100\n`,
    );
  });

  test('a one-line list, an empty one, and one with a trailing comma', () => {
    const one = '[project]\ndependencies = ["numpy", "torch"]\n';
    assert.equal(
      edited({ 'pyproject.toml': one }, 'pyproject.toml'),
      '[project]\ndependencies = ["numpy", "torch", "opentelemetry-distro", "opentelemetry-exporter-otlp"]\n',
    );
    assert.equal(
      edited({ 'pyproject.toml': '[project]\ndependencies = []\n' }, 'pyproject.toml'),
      '[project]\ndependencies = ["opentelemetry-distro", "opentelemetry-exporter-otlp"]\n',
    );
    assert.equal(
      edited({ 'pyproject.toml': '[project]\ndependencies = ["numpy",]\n' }, 'pyproject.toml'),
      '[project]\ndependencies = ["numpy","opentelemetry-distro", "opentelemetry-exporter-otlp"]\n',
    );
  });

  test('strings holding ] or # and entries listed already are read right', () => {
    const text = `[project]\ndependencies = [\n  'weird[extra]; python_version < "3.12"',\n  "opentelemetry-distro==0.66b1",\n  "x # not a comment",\n]\n`;
    assert.equal(
      edited({ 'pyproject.toml': text }, 'pyproject.toml'),
      `[project]\ndependencies = [\n  'weird[extra]; python_version < "3.12"',\n  "opentelemetry-distro==0.66b1",\n  "x # not a comment",\n  "opentelemetry-exporter-otlp",\n]\n`,
    );
  });

  test('a dependencies key of another table is not the project list', () => {
    const text = '[tool.hatch.envs.test]\ndependencies = ["pytest"]\n[project]\nname = "a"\n';
    const r = requirementEdits(files({ 'pyproject.toml': text }), PACKAGES);
    assert.deepEqual(r.manifests, []);
    assert.match(r.notes[0]!, /no readable \[project\] dependencies list/);
  });

  test('unclosed or truncated lists and strings are left alone, with a note', () => {
    for (const text of [
      '[project]\ndependencies = [\n  "numpy",\n',
      '[project]\ndependencies = ["numpy\n',
      "[project]\ndependencies = ['''numpy",
    ]) {
      const r = requirementEdits(files({ 'pyproject.toml': text }), PACKAGES);
      assert.deepEqual(r.manifests, [], text);
      assert.equal(r.notes.length, 1, text);
    }
  });

  test('Poetry, uv, PDM and Pipenv projects are left to their own add command', () => {
    const text = '[project]\ndependencies = []\n';
    for (const lock of ['uv.lock', 'poetry.lock', 'pdm.lock', 'Pipfile']) {
      const r = requirementEdits(files({ 'pyproject.toml': text, [lock]: '' }), PACKAGES);
      assert.deepEqual(r.manifests, [], lock);
    }
    const poetry = '[tool.poetry]\nname = "a"\n[project]\ndependencies = []\n';
    assert.deepEqual(requirementEdits(files({ 'pyproject.toml': poetry }), PACKAGES).manifests, []);
  });

  test('with requirements.txt too, both are edited', () => {
    const r = requirementEdits(
      files({ 'requirements.txt': 'numpy\n', 'pyproject.toml': '[project]\ndependencies = []\n' }),
      PACKAGES,
    );
    assert.deepEqual(
      r.manifests.map((m) => m.file),
      ['requirements.txt', 'pyproject.toml'],
    );
  });
});

describe('addZeroCodeSetup', () => {
  test('the marker, the manifests and the pip command of the project', () => {
    const r = addZeroCodeSetup(
      { text: 'import urllib.request\n', language: 'python', fileName: 'app.py' },
      files({ 'requirements.txt': 'numpy\n' }),
    );
    assert.equal(r.status, 'edited');
    assert.equal(r.manifests.length, 1);
    assert.equal(
      r.dependencies.command,
      'python -m pip install opentelemetry-distro opentelemetry-exporter-otlp',
    );
    assert.match(r.messages[0]!.text, /opentelemetry-bootstrap -a install/);
  });

  test('uv projects get `uv add`, other languages a refusal, a marked file no manifest edit', () => {
    const uv = addZeroCodeSetup(
      { text: 'x = 1\n', language: 'python' },
      files({ 'pyproject.toml': '[project]\nname = "a"\ndependencies = []\n', 'uv.lock': '' }),
    );
    assert.equal(
      uv.dependencies.command,
      'uv add opentelemetry-distro opentelemetry-exporter-otlp',
    );
    assert.deepEqual(uv.manifests, []);
    const go = addZeroCodeSetup({ text: 'package main\n', language: 'go' }, files({}));
    assert.equal(go.status, 'unsupported');
    const marked = addZeroCodeSetup(
      { text: `${ZERO_CODE_MARKER}\n`, language: 'python' },
      files({ 'requirements.txt': '' }),
    );
    assert.equal(marked.status, 'already-instrumented');
    assert.deepEqual(marked.manifests, []);
  });
});

describe('Run with Tracing under opentelemetry-instrument', () => {
  test('when: a marked file, or the distro among the requirements, never with a manual setup', () => {
    assert.equal(pythonRunsZeroCode(`${ZERO_CODE_MARKER}\nimport os\n`), true);
    assert.equal(pythonRunsZeroCode('import os\n'), false);
    assert.equal(
      pythonRunsZeroCode('import os\n', files({ 'requirements.txt': 'numpy\n' })),
      false,
    );
    assert.equal(
      pythonRunsZeroCode(
        'import os\n',
        files({ 'requirements.txt': 'opentelemetry_distro>=0.5\n' }),
      ),
      true,
    );
    assert.equal(
      pythonRunsZeroCode(
        'import os\n',
        files({ 'pyproject.toml': '[project]\ndependencies = ["opentelemetry-distro"]\n' }),
      ),
      true,
    );
    const manual = `${ZERO_CODE_MARKER}\ntrace.set_tracer_provider(provider)\n`;
    assert.equal(
      pythonRunsZeroCode(manual, files({ 'requirements.txt': 'opentelemetry-distro' })),
      false,
    );
  });

  test('the command runs the instrumenter with the chosen interpreter, then the file with it', () => {
    const cmd = runCommand('/p/app/main.py', 'python', {
      python: '/p/.venv/bin/python',
      projectRoot: '/p',
      zeroCode: true,
    });
    assert.deepEqual(cmd, {
      argv: [
        '/p/.venv/bin/python',
        '-c',
        'from opentelemetry.instrumentation.auto_instrumentation import run; run()',
        '/p/.venv/bin/python',
        'app/main.py',
      ],
      cwd: '/p',
    });
    assert.equal(
      runCommandLine(cmd, 'posix'),
      "/p/.venv/bin/python -c 'from opentelemetry.instrumentation.auto_instrumentation import run; run()' /p/.venv/bin/python app/main.py",
    );
    assert.deepEqual(
      runCommand('/p/main.py', 'python', { python: 'python3', projectRoot: '/p' }).argv,
      ['python3', 'main.py'],
    );
  });

  test('the environment: endpoint, protocol, service name, OTLP traces, no metrics or logs', () => {
    const receiver = { grpc: 'http://127.0.0.1:4317', http: 'http://127.0.0.1:4318' };
    assert.deepEqual(zeroCodeTracingEnv(receiver, 'http', 'rank'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'rank',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
  });
});
