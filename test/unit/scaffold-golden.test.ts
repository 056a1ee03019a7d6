/**
 * Golden-file tests of the scaffolding commands: each case runs a sequence of commands on a
 * fixture under test/fixtures/scaffold/, compares the result with `<case>.expected.<ext>`,
 * checks that running the last command again changes nothing (idempotency), and checks the
 * output with the language's own tools: `python3 -m py_compile`, `gofmt -l`, a tree-sitter parse
 * plus `javac` against API stubs for Java, the TypeScript checker for TS/JS.
 * `STAGELIGHT_UPDATE_GOLDEN=1` rewrites the expected files.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addStageAttributes,
  addTracingSetup,
  applyEdits,
  traceFunction,
  wrapSelectionInSpan,
  type ScaffoldLanguage,
  type ScaffoldResult,
  type ScaffoldStatus,
} from '../../src/core/scaffold/index.js';
import { parse } from '../../src/core/scaffold/parsers.js';
import { tsTypeErrors } from './helpers/scaffold-run.js';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'scaffold');
const UPDATE = process.env.STAGELIGHT_UPDATE_GOLDEN === '1';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-scaffold-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Where a step acts: the start of a text (cursor), or from one text to the end of another. */
type At = string | { from: string; to: string };

type Step =
  | { op: 'setup'; protocol: 'grpc' | 'http'; logs?: boolean; expect?: ScaffoldStatus }
  | { op: 'trace'; at: At; style?: 'decorator' | 'with'; expect?: ScaffoldStatus }
  | { op: 'wrap'; at: At; name: string; expect?: ScaffoldStatus }
  | { op: 'attrs'; at: At; keys: string[]; expect?: ScaffoldStatus };

interface Case {
  name: string;
  language: ScaffoldLanguage;
  input: string;
  steps: Step[];
  /** The last step run again must report this (default: already-instrumented). */
  again?: ScaffoldStatus;
  /** Compile with javac against the API stubs (Java outputs without the SDK setup). */
  javac?: boolean;
}

function range(text: string, at: At): { start: number; end: number } {
  const find = (s: string) => {
    const i = text.indexOf(s);
    assert.ok(i >= 0, `marker not found: ${s}`);
    return i;
  };
  if (typeof at === 'string') return { start: find(at), end: find(at) };
  return { start: find(at.from), end: find(at.to) + at.to.length };
}

async function run(
  step: Step,
  language: ScaffoldLanguage,
  text: string,
  fileName: string,
): Promise<ScaffoldResult> {
  const doc = { text, language, fileName };
  switch (step.op) {
    case 'setup':
      return addTracingSetup(
        doc,
        { files: [], read: () => undefined },
        {
          serviceName: 'pipeline',
          endpoint: step.protocol === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318',
          protocol: step.protocol,
          logs: step.logs,
        },
      );
    case 'trace':
      return traceFunction(doc, range(text, step.at), { pythonStyle: step.style });
    case 'wrap':
      return wrapSelectionInSpan(doc, range(text, step.at), { spanName: step.name });
    case 'attrs':
      return addStageAttributes(doc, range(text, step.at), { keys: step.keys });
  }
}

const CASES: Case[] = [
  // Python
  {
    name: 'setup-grpc',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'setup', protocol: 'grpc' }],
  },
  {
    name: 'setup-http',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'setup', protocol: 'http' }],
  },
  {
    name: 'setup-grpc-logs',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'setup', protocol: 'grpc', logs: true }],
  },
  {
    name: 'setup-http-logs',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'setup', protocol: 'http', logs: true }],
  },
  {
    name: 'trace-decorated-method',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'trace', at: 'overlap = set' }],
  },
  {
    name: 'trace-async-with',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'trace', at: 'await asyncio.sleep', style: 'with' }],
  },
  {
    name: 'trace-nested-then-attrs',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [
      { op: 'trace', at: 'return text.lower' },
      { op: 'trace', at: 'q = normalize' },
      { op: 'attrs', at: 'q = normalize', keys: ['model.name', 'batch_size', 'cache.hit'] },
    ],
  },
  {
    name: 'wrap-selection',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [{ op: 'wrap', at: { from: 'scored = [', to: 'reverse=True)]' }, name: 'score_all' }],
  },
  {
    name: 'unsupported',
    language: 'python',
    input: 'python/pipeline.py',
    steps: [
      { op: 'trace', at: 'len(d)', expect: 'unsupported' },
      { op: 'trace', at: 'yield d', expect: 'unsupported' },
      { op: 'attrs', at: 'yield d', keys: ['model.name'], expect: 'not-found' },
    ],
    again: 'not-found',
  },
  // TypeScript
  {
    name: 'setup-http',
    language: 'typescript',
    input: 'typescript/pipeline.ts.txt',
    steps: [{ op: 'setup', protocol: 'http' }],
  },
  {
    name: 'setup-grpc-logs',
    language: 'typescript',
    input: 'typescript/pipeline.ts.txt',
    steps: [{ op: 'setup', protocol: 'grpc', logs: true }],
  },
  {
    name: 'trace-all',
    language: 'typescript',
    input: 'typescript/pipeline.ts.txt',
    steps: [
      { op: 'trace', at: 'const q = new Set' },
      { op: 'trace', at: 'await sleep(1)' },
      { op: 'trace', at: 'text.toLowerCase' },
      { op: 'trace', at: 'return [q, `' },
      { op: 'trace', at: 'const terms' },
      { op: 'attrs', at: 'await sleep(1)', keys: ['gen_ai.request.model', 'batch_size'] },
    ],
  },
  {
    name: 'wrap-selection',
    language: 'typescript',
    input: 'typescript/pipeline.ts.txt',
    steps: [
      { op: 'wrap', at: 'export const normalize', name: 'x', expect: 'not-found' },
      {
        op: 'wrap',
        at: { from: 'return [q, `', to: 'const terms' },
        name: 'x',
        expect: 'unsupported',
      },
      {
        op: 'wrap',
        at: { from: 'const results', to: 'return results;' },
        name: 'x',
        expect: 'unsupported',
      },
      {
        op: 'wrap',
        at: { from: 'const terms', to: `(t) => \`doc about \${t}\`);` },
        name: 'x',
        expect: 'unsupported',
      },
      { op: 'wrap', at: { from: 'await sleep(1)', to: 'void note;' }, name: 'prepare' },
    ],
  },
  {
    name: 'unsupported',
    language: 'typescript',
    input: 'typescript/pipeline.ts.txt',
    steps: [
      { op: 'trace', at: 'private readonly', expect: 'unsupported' },
      { op: 'trace', at: 'for (const d of docs)', expect: 'unsupported' },
      { op: 'trace', at: 'q.has(w)', expect: 'unsupported' },
    ],
    again: 'unsupported',
  },
  // JavaScript (CommonJS)
  {
    name: 'setup-and-trace',
    language: 'javascript',
    input: 'javascript/worker.cjs.txt',
    steps: [
      { op: 'setup', protocol: 'grpc' },
      { op: 'trace', at: 'await sleep(1)' },
      { op: 'trace', at: 'const out = []' },
    ],
  },
  // Go
  {
    name: 'setup-grpc',
    language: 'go',
    input: 'go/pipeline.go',
    steps: [{ op: 'setup', protocol: 'grpc' }],
  },
  {
    name: 'trace-all',
    language: 'go',
    input: 'go/pipeline.go',
    steps: [
      { op: 'trace', at: 'if len(docs) == 0' },
      { op: 'trace', at: 'strings.ToLower(q)' },
      { op: 'trace', at: 'q := Normalize' },
      {
        op: 'attrs',
        at: 'out := append',
        keys: ['model.name', 'batch_size', 'cache.hit', 'gen_ai.request.temperature'],
      },
    ],
  },
  {
    name: 'wrap-selection',
    language: 'go',
    input: 'go/pipeline.go',
    steps: [
      { op: 'trace', at: 'return strings.Count', expect: 'unsupported' },
      {
        op: 'wrap',
        at: { from: 'out := append', to: 'out[j], query)' },
        name: 'x',
        expect: 'unsupported',
      },
      { op: 'wrap', at: { from: 'sort.Slice(', to: 'out[j], query)' }, name: 'sort' },
    ],
  },
  // Java
  {
    name: 'trace-all',
    language: 'java',
    input: 'java/Pipeline.java',
    javac: true,
    steps: [
      { op: 'trace', at: 'if (docs.isEmpty())' },
      { op: 'trace', at: 'String prompt' },
      {
        op: 'attrs',
        at: 'List<String> out',
        keys: ['model.name', 'batch_size', 'cache.hit', 'gen_ai.request.temperature'],
      },
    ],
  },
  {
    name: 'wrap-and-unsupported',
    language: 'java',
    input: 'java/Pipeline.java',
    javac: true,
    steps: [
      { op: 'trace', at: 's.toLowerCase', expect: 'unsupported' },
      { op: 'trace', at: 'this.model = model', expect: 'unsupported' },
      {
        op: 'wrap',
        at: { from: 'Pipeline p =', to: 'List.of("a", "bb");' },
        name: 'x',
        expect: 'unsupported',
      },
      { op: 'wrap', at: 'System.out.println', name: 'print' },
    ],
  },
  {
    // The selection's span inside the traced method's: fresh names (Java lets no local
    // shadow another), so javac accepts both.
    name: 'trace-then-wrap',
    language: 'java',
    input: 'java/Pipeline.java',
    javac: true,
    steps: [
      { op: 'trace', at: 'if (docs.isEmpty())' },
      { op: 'wrap', at: 'out.sort(', name: 'sort' },
    ],
  },
  {
    name: 'setup-http',
    language: 'java',
    input: 'java/Pipeline.java',
    steps: [{ op: 'setup', protocol: 'http' }],
  },
];

/**
 * TS/JS fixtures carry a `.txt` suffix so the repository's own lint, format and typecheck leave
 * them alone (the generated code's style is what the test pins, not Prettier's).
 */
function expectedPath(c: Case): string {
  const txt = c.input.endsWith('.txt') ? '.txt' : '';
  const real = c.input.slice(0, c.input.length - txt.length);
  const ext = path.extname(real);
  return path.join(
    FIXTURES,
    path.dirname(real),
    `${path.basename(real, ext)}.${c.name}.expected${ext}${txt}`,
  );
}

function tool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const HAVE = {
  python: tool('python3', ['--version']),
  gofmt: existsSync('/usr/bin/gofmt') || tool('gofmt', ['-l', os.devNull]),
  javac: tool('javac', ['-version']),
};

/** Type-checks a TS/JS text as if it lived in the fixtures folder (real node_modules types). */
function typeErrors(text: string, js: boolean): string[] {
  return tsTypeErrors(text, path.join(FIXTURES, js ? '__golden__.cjs' : '__golden__.ts'));
}

async function check(c: Case, text: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmp, `${c.language}-`));
  switch (c.language) {
    case 'python': {
      if (!HAVE.python) return;
      const f = path.join(dir, 'out.py');
      writeFileSync(f, text);
      execFileSync('python3', ['-m', 'py_compile', f], { stdio: 'pipe' });
      return;
    }
    case 'go': {
      const tree = await parse('go', text);
      assert.equal(tree.rootNode.hasError, false, 'tree-sitter-go parse errors');
      tree.delete();
      if (!HAVE.gofmt) return;
      const f = path.join(dir, 'out.go');
      writeFileSync(f, text);
      const out = execFileSync('gofmt', ['-l', f], { encoding: 'utf8' });
      assert.equal(
        out.trim(),
        '',
        `gofmt would reformat:\n${execFileSync('gofmt', ['-d', f], { encoding: 'utf8' })}`,
      );
      return;
    }
    case 'java': {
      const tree = await parse('java', text);
      assert.equal(tree.rootNode.hasError, false, 'tree-sitter-java parse errors');
      tree.delete();
      if (!c.javac || !HAVE.javac) return;
      const f = path.join(dir, path.basename(c.input));
      writeFileSync(f, text);
      const stubs = path.join(FIXTURES, 'java-stubs');
      execFileSync(
        'javac',
        ['-proc:none', '-d', path.join(dir, 'classes'), '-sourcepath', stubs, f],
        { stdio: 'pipe' },
      );
      return;
    }
    case 'typescript':
    case 'javascript':
      assert.deepEqual(typeErrors(text, c.language === 'javascript'), []);
      return;
  }
}

describe('scaffold golden files', () => {
  for (const c of CASES) {
    test(`${c.language} ${c.name}`, async () => {
      const inputPath = path.join(FIXTURES, c.input);
      const fileName = inputPath.replace(/\.txt$/, '');
      let text = readFileSync(inputPath, 'utf8');
      const original = text;
      let last: ScaffoldResult | undefined;
      for (const step of c.steps) {
        last = await run(step, c.language, text, fileName);
        const want = step.expect ?? 'edited';
        assert.equal(last.status, want, `${step.op}: ${JSON.stringify(last.messages)}`);
        if (want !== 'edited') {
          assert.equal(last.edits.length, 0);
          assert.ok(last.messages.length > 0, 'a refusal explains itself');
        }
        text = applyEdits(text, last.edits);
      }
      // Idempotent: the last command again changes nothing.
      const again = await run(c.steps[c.steps.length - 1]!, c.language, text, fileName);
      assert.equal(again.status, c.again ?? 'already-instrumented', JSON.stringify(again.messages));
      assert.equal(again.edits.length, 0);
      if (c.steps.every((s) => s.expect && s.expect !== 'edited')) {
        assert.equal(text, original);
        return;
      }
      const expected = expectedPath(c);
      if (UPDATE) {
        mkdirSync(path.dirname(expected), { recursive: true });
        writeFileSync(expected, text);
      }
      assert.equal(text, readFileSync(expected, 'utf8'));
      await check(c, text);
    });
  }
});

test('the span line offset points at the line that starts the span', async () => {
  const text = readFileSync(path.join(FIXTURES, 'python/pipeline.py'), 'utf8');
  const r = await traceFunction({ text, language: 'python' }, range(text, 'overlap = set'));
  const out = applyEdits(text, r.edits);
  assert.ok(r.spanLineOffset !== undefined);
  assert.match(
    out.slice(r.spanLineOffset, out.indexOf('\n', r.spanLineOffset)),
    /@tracer\.start_as_current_span\("Reranker\.score"\)/,
  );
  const tsText = readFileSync(path.join(FIXTURES, 'typescript/pipeline.ts.txt'), 'utf8');
  const t = await traceFunction(
    { text: tsText, language: 'typescript' },
    range(tsText, 'await sleep(1)'),
  );
  const tsOut = applyEdits(tsText, t.edits);
  assert.match(
    tsOut.slice(t.spanLineOffset, tsOut.indexOf('\n', t.spanLineOffset)),
    /startActiveSpan\('Reranker\.rerank'/,
  );
});
