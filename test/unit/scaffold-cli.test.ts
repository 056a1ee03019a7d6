/**
 * `stagelight scaffold` as a user runs it (the built dist/cli.js in a child process): each
 * command on the Python, TypeScript, Go and Java fixtures of test/fixtures/scaffold/, its diff
 * checked and applied by `git apply` and compared with the core's own edit made in this
 * process, `--write` writing the same text, and every usage error and refusal with its exit
 * status, a clear message, and the file left as it was.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addStageAttributes,
  addTracingSetup,
  applyEdits,
  insertPropagation,
  traceFunction,
  wrapSelectionInSpan,
  type PropagationPattern,
  type ScaffoldLanguage,
  type ScaffoldResult,
} from '../../src/core/scaffold/index.js';
import { ZERO_CODE_MARKER } from '../../src/core/scaffold/python-zero-code.js';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'scaffold');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-cli-'));

before(() => {
  // Always rebuild: a stale bundle would test yesterday's CLI.
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'pipe' });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function scaffold(cwd: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, 'scaffold', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dirs = 0;
/** A fresh folder holding one fixture under `name`. */
function project(fixture: string, name: string, text?: string): { dir: string; file: string } {
  const dir = path.join(tmp, `p${++dirs}`);
  execFileSync('mkdir', ['-p', dir]);
  const file = path.join(dir, name);
  if (text !== undefined) writeFileSync(file, text);
  else copyFileSync(path.join(FIXTURES, fixture), file);
  return { dir, file };
}

/** Applies a diff with `git apply` (after `--check`) in `dir`; returns the file's new text. */
function gitApply(dir: string, diff: string, file: string): string {
  execFileSync('git', ['apply', '--check', '-'], { cwd: dir, input: diff, stdio: 'pipe' });
  execFileSync('git', ['apply', '-'], { cwd: dir, input: diff, stdio: 'pipe' });
  return readFileSync(file, 'utf8');
}

/** 1-based line of the first line that contains `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `marker not found: ${marker}`);
  return i + 1;
}

function noStack(r: Run): void {
  assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace instead of a message:\n${r.stderr}`);
}

interface LanguageCase {
  language: ScaffoldLanguage;
  fixture: string;
  name: string;
  /** The function for --function, and a marker on its header where the editor's cursor is. */
  fn: string;
  fnMarker: string;
  /** First and last line of the statements to wrap. */
  select: [string, string];
  /** A line inside the traced function (where attributes go). */
  inside: string;
  /** The line propagation goes in front of, and a pattern the language has. */
  propagateAt: string;
  kind: PropagationPattern;
  /** What the traced function looks like in the edited file. */
  traced: RegExp;
}

const CASES: LanguageCase[] = [
  {
    language: 'python',
    fixture: 'python/pipeline.py',
    name: 'pipeline.py',
    fn: 'retrieve',
    fnMarker: 'retrieve(query):',
    select: ['q = normalize(query)', 'return sorted('],
    inside: 'q = normalize(query)',
    propagateAt: 'q = normalize(query)',
    kind: 'http-client',
    traced: /@tracer\.start_as_current_span\("retrieve"\)\ndef retrieve/,
  },
  {
    language: 'typescript',
    fixture: 'typescript/pipeline.ts.txt',
    name: 'pipeline.ts',
    fn: 'retrieve',
    fnMarker: 'retrieve(query: string)',
    select: ['await sleep(1)', 'void note;'],
    inside: 'const terms =',
    propagateAt: 'const terms =',
    kind: 'http-client',
    traced: /startActiveSpan\('retrieve'/,
  },
  {
    language: 'go',
    fixture: 'go/pipeline.go',
    name: 'pipeline.go',
    fn: 'Retrieve',
    fnMarker: 'Retrieve(ctx',
    select: ['q := Normalize(query)', 'docs = []string'],
    inside: 'q := Normalize(query)',
    propagateAt: 'q := Normalize(query)',
    kind: 'http-client',
    traced: /tracer\.Start\(ctx, "Retrieve"\)/,
  },
  {
    language: 'java',
    fixture: 'java/Pipeline.java',
    name: 'Pipeline.java',
    fn: 'rerank',
    fnMarker: 'rerank(String query',
    select: ['System.out.println', 'System.out.println'],
    inside: 'List<String> out =',
    propagateAt: 'List<String> out =',
    kind: 'http-client',
    traced: /spanBuilder\("Pipeline\.rerank"\)/,
  },
];

/**
 * Runs one command twice on copies of the same file: once printing the diff (which must apply
 * and give `expected`), once with --write (which must write the same text). Returns the text.
 */
function diffAndWrite(c: LanguageCase, args: string[], expected: string, start?: string): string {
  const a = project(c.fixture, c.name, start);
  const shown = scaffold(a.dir, args[0]!, c.name, ...args.slice(1));
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^--- a/${c.name}\\n\\+\\+\\+ b/${c.name}\\n@@ `));
  const before = readFileSync(a.file, 'utf8');
  assert.equal(before, start ?? readFileSync(path.join(FIXTURES, c.fixture), 'utf8'));
  assert.equal(gitApply(a.dir, shown.stdout, a.file), expected);

  const b = project(c.fixture, c.name, start);
  const written = scaffold(b.dir, args[0]!, c.name, ...args.slice(1), '--write');
  assert.equal(written.code, 0, written.stderr);
  assert.equal(written.stdout, '', 'nothing on stdout with --write');
  assert.match(written.stderr, new RegExp(`Wrote ${c.name.replace('.', '\\.')}\\.`));
  assert.equal(readFileSync(b.file, 'utf8'), expected);
  return expected;
}

function edited(text: string, r: ScaffoldResult): string {
  assert.equal(r.status, 'edited', JSON.stringify(r.messages));
  return applyEdits(text, r.edits);
}

for (const c of CASES) {
  describe(`stagelight scaffold on ${c.name}`, () => {
    const source = readFileSync(path.join(FIXTURES, c.fixture), 'utf8');
    const doc = (text: string) => ({ text, language: c.language, fileName: c.name });
    const cursorAt = (text: string, marker: string) => {
      const i = text.indexOf(marker);
      assert.ok(i >= 0, marker);
      return { start: i, end: i };
    };

    test('setup: the core edit as a diff, then "already sets up" (exit 1), file unchanged', async () => {
      const protocol = c.language === 'typescript' ? 'http' : 'grpc';
      const endpoint = protocol === 'http' ? 'http://127.0.0.1:4318' : 'http://127.0.0.1:4317';
      const core = await addTracingSetup(
        doc(source),
        { files: [], read: () => undefined },
        { serviceName: 'ranker', endpoint, protocol },
      );
      const expected = edited(source, core);
      diffAndWrite(c, ['setup', '--service', 'ranker'], expected);
      assert.ok(expected.includes(endpoint));

      const again = project(c.fixture, c.name, expected);
      const r = scaffold(again.dir, 'setup', c.name, '--service', 'ranker', '--write');
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /already/i);
      assert.match(r.stderr, new RegExp(`${c.name.replace('.', '\\.')} unchanged`));
      assert.equal(readFileSync(again.file, 'utf8'), expected);
    });

    if (c.language === 'python' || c.language === 'typescript') {
      test('setup --logs: the core edit with the logs pipeline', async () => {
        const protocol = c.language === 'typescript' ? 'http' : 'grpc';
        const endpoint = protocol === 'http' ? 'http://127.0.0.1:4318' : 'http://127.0.0.1:4317';
        const core = await addTracingSetup(
          doc(source),
          { files: [], read: () => undefined },
          { serviceName: 'ranker', endpoint, protocol, logs: true },
        );
        const expected = edited(source, core);
        assert.match(expected, /LoggerProvider/);
        diffAndWrite(c, ['setup', '--service', 'ranker', '--logs'], expected);
      });
    }

    test('function --function and --lines: the same edit as the cursor on the header', async () => {
      const expected = edited(
        source,
        await traceFunction(doc(source), cursorAt(source, c.fnMarker)),
      );
      assert.match(expected, c.traced);
      diffAndWrite(c, ['function', '--function', c.fn], expected);
      diffAndWrite(c, ['function', '--lines', String(lineOf(source, c.fnMarker))], expected);
    });

    test('selection --lines a-b --name: the statements wrapped in the span', async () => {
      const first = lineOf(source, c.select[0]);
      const last = lineOf(source, c.select[1]);
      assert.ok(last >= first);
      const s = source.indexOf(c.select[0]);
      const lastLine = source.split('\n')[last - 1]!;
      const e = source.indexOf(lastLine) + lastLine.length;
      const expected = edited(
        source,
        await wrapSelectionInSpan(doc(source), { start: s, end: e }, { spanName: 'expand' }),
      );
      assert.match(expected, /expand/);
      diffAndWrite(c, ['selection', '--lines', `${first}-${last}`, '--name', 'expand'], expected);
    });

    test('attributes --key on a traced function; refused (exit 1) where no span encloses', async () => {
      const traced = edited(source, await traceFunction(doc(source), cursorAt(source, c.fnMarker)));
      const at = cursorAt(traced, c.inside);
      const keys = ['gen_ai.request.model', 'batch_size'];
      const expected = edited(traced, await addStageAttributes(doc(traced), at, { keys }));
      const args = ['attributes', '--lines', String(lineOf(traced, c.inside))];
      for (const k of keys) args.push('--key', k);
      diffAndWrite(c, args, expected, traced);
      assert.match(expected, /gen_ai\.request\.model/);

      // The untraced fixture: no span around the line.
      const p = project(c.fixture, c.name);
      const line = String(lineOf(source, c.inside));
      const r = scaffold(p.dir, 'attributes', c.name, '--lines', line, '--key', 'batch_size');
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /span/i);
      noStack(r);
      assert.equal(readFileSync(p.file, 'utf8'), source);
    });

    test('propagate --lines --kind: the snippet with its imports, placeholders filled', async () => {
      const line = lineOf(source, c.propagateAt);
      const at = source.indexOf(c.propagateAt);
      const core = await insertPropagation(source, c.language, c.name, at, c.kind);
      const expected = edited(source, core);
      assert.doesNotMatch(expected, /\$\{\d/, 'no snippet placeholder left');
      diffAndWrite(c, ['propagate', '--lines', String(line), '--kind', c.kind], expected);
    });
  });
}

describe('stagelight scaffold: usage errors exit 2 and leave the file alone', () => {
  const source = readFileSync(path.join(FIXTURES, 'python/pipeline.py'), 'utf8');
  const p = project('python/pipeline.py', 'pipeline.py');
  writeFileSync(path.join(p.dir, 'notes.txt'), 'plain text\n');
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /which command\? setup, function, selection, attributes, propagate/],
    ['unknown command', ['trace', 'pipeline.py'], /unknown command "trace"; one of setup/],
    ['no file', ['function'], /function needs a file/],
    ['two files', ['setup', 'pipeline.py', 'other.py'], /one file at a time/],
    ['unknown option', ['setup', 'pipeline.py', '--colour'], /Unknown option '--colour'/],
    ['language unknown', ['setup', 'notes.txt'], /cannot tell the language of notes\.txt/],
    [
      'both --function and --lines',
      ['function', 'pipeline.py', '--function', 'retrieve', '--lines', '3'],
      /give --function or --lines, not both/,
    ],
    ['function without a place', ['function', 'pipeline.py'], /--function <name> or --lines/],
    ['--lines 0', ['function', 'pipeline.py', '--lines', '0'], /--lines must be a line <n>/],
    ['--lines reversed', ['function', 'pipeline.py', '--lines', '9-3'], /1 <= a <= b, got "9-3"/],
    ['--lines not a number', ['function', 'pipeline.py', '--lines', 'x'], /got "x"/],
    ['--lines open range', ['function', 'pipeline.py', '--lines', '3-'], /got "3-"/],
    ['--lines empty', ['function', 'pipeline.py', '--lines', ''], /got ""/],
    [
      '--lines past the end',
      ['selection', 'pipeline.py', '--lines', '30-999', '--name', 's'],
      /--lines 30-999 is past the end of pipeline\.py \(39 lines\)/,
    ],
    [
      '--lines huge',
      ['function', 'pipeline.py', '--lines', '99999999999999999999'],
      /--lines must be a line/,
    ],
    ['selection without --name', ['selection', 'pipeline.py', '--lines', '3-4'], /--name <span>/],
    ['selection without --lines', ['selection', 'pipeline.py', '--name', 's'], /--lines <a-b>/],
    [
      'a span name with a quote',
      ['selection', 'pipeline.py', '--lines', '3-4', '--name', 'a"b'],
      /--name: Leave out quotes/,
    ],
    [
      'propagate by function',
      ['propagate', 'pipeline.py', '--function', 'retrieve', '--kind', 'http-client'],
      /--function does not apply to propagate/,
    ],
    [
      'propagate without --kind lists the patterns',
      ['propagate', 'pipeline.py', '--lines', '3'],
      /--kind <pattern>; for python: kafka-producer, .*ray-remote-call/,
    ],
    [
      'an unknown --kind',
      ['propagate', 'pipeline.py', '--lines', '3', '--kind', 'carrier-pigeon'],
      /unknown --kind "carrier-pigeon"/,
    ],
    ['attributes without --key', ['attributes', 'pipeline.py', '--lines', '3'], /known keys:/],
    ['--kind on setup', ['setup', 'pipeline.py', '--kind', 'http-client'], /--kind does not apply/],
    ['--key on function', ['function', 'pipeline.py', '--lines', '3', '--key', 'k'], /--key/],
    ['--protocol unknown', ['setup', 'pipeline.py', '--protocol', 'udp'], /grpc or http/],
    ['--endpoint not a URL', ['setup', 'pipeline.py', '--endpoint', 'localhost'], /URL/],
    [
      '--endpoint of another scheme',
      ['setup', 'pipeline.py', '--endpoint', 'file:///etc/passwd'],
      /http:\/\/ or https:\/\//,
    ],
    [
      '--endpoint that would break out of the string',
      ['setup', 'pipeline.py', '--endpoint', 'http://h:1/"+os.system("x")+"'],
      /leave out quotes/,
    ],
    ['--service with a quote', ['setup', 'pipeline.py', '--service', "x'); rm"], /--service:/],
    ['--logs on Go', ['setup', 'x.go', '--logs'], /--logs applies to Python/],
    ['--logs on function', ['function', 'pipeline.py', '--lines', '1', '--logs'], /--logs/],
    ['--logs with --zero-code', ['setup', 'pipeline.py', '--zero-code', '--logs'], /--logs/],
    ['--style on Go', ['function', 'x.go', '--lines', '1', '--style', 'with'], /Python files/],
    ['--style unknown', ['function', 'pipeline.py', '--lines', '1', '--style', 'x'], /decorator/],
  ];
  for (const [title, args, message] of cases) {
    test(title, () => {
      const r = scaffold(p.dir, ...args);
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.match(r.stderr, /stagelight scaffold --help/);
      noStack(r);
      assert.equal(readFileSync(p.file, 'utf8'), source);
    });
  }

  test('a function name defined twice asks for --lines', () => {
    const text = 'def f():\n    pass\n\n\nclass A:\n    def f(self):\n        pass\n';
    const q = project('python/pipeline.py', 'twice.py', text);
    const r = scaffold(q.dir, 'function', 'twice.py', '--function', 'f');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /2 functions named "f" in twice\.py, on lines 1, 6; pick one/);
  });
});

describe('stagelight scaffold: nothing to change exits 1 with the reason', () => {
  const source = readFileSync(path.join(FIXTURES, 'python/pipeline.py'), 'utf8');

  function refused(
    args: string[],
    message: RegExp,
    file = 'pipeline.py',
    text?: string | Buffer,
  ): void {
    const p = project('python/pipeline.py', file);
    if (text !== undefined) writeFileSync(p.file, text);
    const before = readFileSync(p.file);
    const r = scaffold(p.dir, ...args, '--write');
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
    noStack(r);
    assert.deepEqual(readFileSync(p.file), before, 'the file is as it was');
  }

  test('no such file', () => {
    refused(['setup', 'missing.py'], /missing\.py: no such file/);
  });
  test('a folder', () => {
    const p = project('python/pipeline.py', 'pipeline.py');
    execFileSync('mkdir', [path.join(p.dir, 'pkg.py')]);
    const r = scaffold(p.dir, 'setup', 'pkg.py');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pkg\.py is not a file/);
  });
  test('--function not found lists the functions there are', () => {
    refused(
      ['function', 'pipeline.py', '--function', 'embed'],
      /no function "embed" in pipeline\.py \(found: __init__, score, rerank, retrieve, normalize, stream\)/,
    );
  });
  test('a generator cannot be traced (the core refuses)', () => {
    refused(['function', 'pipeline.py', '--function', 'stream'], /generator/i);
  });
  test('a line outside any function', () => {
    refused(['function', 'pipeline.py', '--lines', '1'], /function|nothing/i);
  });
  test('a pattern the language lacks (the core refuses)', () => {
    const go = readFileSync(path.join(FIXTURES, 'go/pipeline.go'), 'utf8');
    refused(
      ['propagate', 'pipeline.go', '--lines', '33', '--kind', 'ray-remote-call'],
      /No ray-remote-call snippet for go/,
      'pipeline.go',
      go,
    );
  });
  test('tracing a traced function again', async () => {
    const traced = applyEdits(
      source,
      (
        await traceFunction(
          { text: source, language: 'python' },
          { start: source.indexOf('retrieve('), end: source.indexOf('retrieve(') },
        )
      ).edits,
    );
    refused(
      ['function', 'pipeline.py', '--function', 'retrieve'],
      /already traced/,
      'pipeline.py',
      traced,
    );
  });
  test('a binary file', () => {
    refused(
      ['setup', 'blob.py'],
      /blob\.py is a binary file/,
      'blob.py',
      Buffer.from([0x70, 0, 1, 2]),
    );
  });
  test('a file that is not UTF-8', () => {
    const latin1 = Buffer.from('# caf\xe9\nx = 1\n', 'latin1');
    refused(['setup', 'latin.py'], /latin\.py is not UTF-8 text/, 'latin.py', latin1);
  });
  test('an oversize file', () => {
    const big = `x = 1\n${'#'.repeat(9 * 1024 * 1024)}\n`;
    refused(['setup', 'big.py'], /big\.py is 9 MiB; source files up to 8 MiB/, 'big.py', big);
  });
});

describe('stagelight scaffold: hostile and odd sources', () => {
  test('a truncated file gets an edit or a reason, never a crash', () => {
    const source = readFileSync(path.join(FIXTURES, 'python/pipeline.py'), 'utf8');
    const cut = source.slice(0, source.indexOf('return [d for'));
    const p = project('python/pipeline.py', 'cut.py', cut);
    for (const args of [
      ['function', 'cut.py', '--function', 'rerank'],
      ['selection', 'cut.py', '--lines', '2-3', '--name', 's'],
      ['setup', 'cut.py'],
    ]) {
      const r = scaffold(p.dir, ...args);
      assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')}: ${r.code}\n${r.stderr}`);
      noStack(r);
      if (r.code === 0) gitApply(p.dir, r.stdout, p.file);
      writeFileSync(p.file, cut);
    }
  });

  test('CRLF line endings and a byte order mark survive --write and the diff', async () => {
    const text = '\ufeffimport os\r\n\r\n\r\ndef run(x):\r\n    return x\r\n';
    const core = await traceFunction(
      { text, language: 'python' },
      { start: text.indexOf('run('), end: text.indexOf('run(') },
    );
    const expected = applyEdits(text, core.edits);
    const a = project('python/pipeline.py', 'crlf.py', text);
    const shown = scaffold(a.dir, 'function', 'crlf.py', '--function', 'run');
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(gitApply(a.dir, shown.stdout, a.file), expected);
    const b = project('python/pipeline.py', 'crlf.py', text);
    assert.equal(scaffold(b.dir, 'function', 'crlf.py', '--lines', '4', '--write').code, 0);
    const written = readFileSync(b.file, 'utf8');
    assert.equal(written, expected);
    assert.ok(written.startsWith('\ufeff'), 'the byte order mark is kept');
  });

  test('--write through a symbolic link writes its target and keeps the link and the mode', () => {
    const p = project('python/pipeline.py', 'real.py');
    chmodSync(p.file, 0o640);
    symlinkSync('real.py', path.join(p.dir, 'link.py'));
    const r = scaffold(p.dir, 'function', 'link.py', '--function', 'retrieve', '--write');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(path.join(p.dir, 'link.py')).isSymbolicLink(), 'still a link');
    assert.match(readFileSync(p.file, 'utf8'), /start_as_current_span\("retrieve"\)/);
    assert.equal(statSync(p.file).mode & 0o777, 0o640);
    assert.deepEqual(
      readdirSync(p.dir).sort(),
      ['link.py', 'real.py'],
      'no temporary file left behind',
    );
  });

  test('a file in a subfolder: the diff names its path from the working folder', () => {
    const p = project('python/pipeline.py', 'pipeline.py');
    execFileSync('mkdir', ['-p', path.join(p.dir, 'src', 'app')]);
    const inner = path.join(p.dir, 'src', 'app', 'rank.py');
    copyFileSync(p.file, inner);
    const r = scaffold(p.dir, 'function', 'src/app/rank.py', '--function', 'retrieve');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^--- a\/src\/app\/rank\.py\n\+\+\+ b\/src\/app\/rank\.py\n/);
    gitApply(p.dir, r.stdout, inner);
    assert.match(readFileSync(inner, 'utf8'), /start_as_current_span\("retrieve"\)/);
  });

  test('setup reads the project: service.name and the pip command from pyproject.toml', () => {
    const p = project('python/pipeline.py', 'pipeline.py');
    writeFileSync(path.join(p.dir, 'pyproject.toml'), '[project]\nname = "reranker"\n');
    const r = scaffold(p.dir, 'setup', 'pipeline.py');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"service\.name": "reranker"/);
    assert.match(r.stderr, /service\.name reranker, OTLP\/grpc http:\/\/127\.0\.0\.1:4317/);
    assert.match(r.stderr, /opentelemetry-exporter-otlp-proto-grpc/);
  });
});

describe('stagelight scaffold setup --zero-code', () => {
  test('the marker and the requirements in one diff that applies; --write writes both', () => {
    const source = readFileSync(path.join(FIXTURES, 'python/pipeline.py'), 'utf8');
    const a = project('python/pipeline.py', 'pipeline.py');
    writeFileSync(path.join(a.dir, 'requirements.txt'), 'numpy==2.1\n');
    const r = scaffold(a.dir, 'setup', 'pipeline.py', '--zero-code');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^--- a\/pipeline\.py\n/);
    assert.match(r.stdout, /\n--- a\/requirements\.txt\n\+\+\+ b\/requirements\.txt\n/);
    assert.match(
      r.stderr,
      /python -m pip install opentelemetry-distro opentelemetry-exporter-otlp/,
    );
    const after = gitApply(a.dir, r.stdout, a.file);
    assert.equal(after, `${ZERO_CODE_MARKER}\n${source}`);
    const req = 'numpy==2.1\nopentelemetry-distro\nopentelemetry-exporter-otlp\n';
    assert.equal(readFileSync(path.join(a.dir, 'requirements.txt'), 'utf8'), req);

    const b = project('python/pipeline.py', 'pipeline.py');
    writeFileSync(path.join(b.dir, 'requirements.txt'), 'numpy==2.1\n');
    const w = scaffold(b.dir, 'setup', 'pipeline.py', '--zero-code', '--write');
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stderr, /Wrote pipeline\.py\.\nWrote requirements\.txt\./);
    assert.equal(readFileSync(b.file, 'utf8'), after);
    assert.equal(readFileSync(path.join(b.dir, 'requirements.txt'), 'utf8'), req);

    const again = scaffold(b.dir, 'setup', 'pipeline.py', '--zero-code', '--write');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already set up for zero-code/);
    assert.equal(readFileSync(path.join(b.dir, 'requirements.txt'), 'utf8'), req);
  });

  test('Python only, and without the options the environment sets', () => {
    const p = project('go/pipeline.go', 'pipeline.go');
    const go = scaffold(p.dir, 'setup', 'pipeline.go', '--zero-code');
    assert.equal(go.code, 2);
    assert.match(go.stderr, /--zero-code applies to Python files only/);
    const q = project('python/pipeline.py', 'pipeline.py');
    const svc = scaffold(q.dir, 'setup', 'pipeline.py', '--zero-code', '--service', 'x');
    assert.equal(svc.code, 2);
    assert.match(svc.stderr, /--service does not apply to --zero-code/);
    const fn = scaffold(q.dir, 'function', 'pipeline.py', '--lines', '3', '--zero-code');
    assert.equal(fn.code, 2);
    assert.match(fn.stderr, /--zero-code does not apply to function/);
  });
});

describe('stagelight scaffold: help', () => {
  test('the main help lists the scaffold commands; scaffold --help prints them (exit 0)', () => {
    const main = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.equal(main.status, 0);
    for (const sub of ['setup', 'function', 'selection', 'attributes', 'propagate']) {
      assert.match(main.stdout, new RegExp(`stagelight scaffold ${sub} <file>`));
    }
    const own = scaffold(ROOT, '--help');
    assert.equal(own.code, 0);
    assert.match(own.stdout, /--write\s+write the edited file/);
    assert.match(own.stdout, /Exit status: 0 edited/);
  });
});
