/**
 * Instrumentation scaffolding (issue 5) through the commands a user runs: Trace This Function
 * and Add Tracing Setup on the Python and TypeScript fixtures, each one undo step and idempotent;
 * then the edited TypeScript file is RUN (node + tsx, the OpenTelemetry JS SDK from the
 * project's node_modules) against the receiver, and its span shows up with the lens on the
 * function. The run works on a copy of the fixture workspace; every edit is reverted at the end.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { StagelightApi } from '../../../src/extension/extension';
import type { ScaffoldOutcome } from '../../../src/extension/scaffold/scaffold-commands';
import type { RunOutcome } from '../../../src/extension/scaffold/run-with-tracing';
import { lineOf, openFixture, startReceiver, stagelightLenses, waitFor } from '../helpers';

/** The repository root: this file runs as out/integration/suite/scaffold.test.js. */
const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Runs a scaffolding command with its options (no prompts) and returns its outcome. */
async function scaffold(command: string, ...args: unknown[]): Promise<ScaffoldOutcome> {
  const outcome = await vscode.commands.executeCommand<ScaffoldOutcome>(command, ...args);
  assert.ok(outcome, `${command} returned nothing`);
  return outcome;
}

/** Code action titles offered at `line` (as the lightbulb or Ctrl+. asks for them). */
async function codeActionTitles(doc: vscode.TextDocument, line: number): Promise<string[]> {
  const actions =
    (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      new vscode.Range(line, 4, line, 4),
    )) ?? [];
  return actions.map((a) => a.title);
}

describe('scaffolding', () => {
  let api: StagelightApi;
  /** Fixture files this spec edits -> their text on disk before, restored in `after`. */
  const originals = new Map<string, string>();

  before(async () => {
    ({ api } = await startReceiver());
  });
  after(async () => {
    // Put the copies back as they were, so later specs see the fixtures unedited.
    for (const [file, text] of originals) {
      writeFileSync(file, text);
      const doc = vscode.workspace.textDocuments.find((d) => d.fileName === file);
      if (doc) {
        await vscode.window.showTextDocument(doc);
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
    }
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  async function open(relativePath: string): Promise<vscode.TextDocument> {
    const doc = await openFixture(relativePath);
    if (!originals.has(doc.fileName))
      originals.set(doc.fileName, readFileSync(doc.fileName, 'utf8'));
    return doc;
  }

  it('traces a Python function with a decorator, once, offered as a code action', async () => {
    const doc = await open('python/pipeline.py');
    const line = lineOf(doc, 'def not_instrumented');
    const titles = await codeActionTitles(doc, line);
    assert.ok(
      titles.includes('Trace this function with Stagelight'),
      `code actions at def not_instrumented: [${titles.join(' | ')}]`,
    );
    const offset = doc.offsetAt(new vscode.Position(line, 4));
    const first = await scaffold('stagelight.traceFunction', doc.uri, offset);
    assert.equal(first.status, 'edited', first.messages.join('\n'));
    const after = doc.getText();
    assert.match(
      after,
      /@tracer\.start_as_current_span\("not_instrumented"\)\ndef not_instrumented/,
    );
    // The `def` line moved down by the decorator: the cursor goes back onto it.
    const defLine = lineOf(doc, 'def not_instrumented');
    const second = await scaffold('stagelight.traceFunction', {
      offset: doc.offsetAt(new vscode.Position(defLine, 4)),
    });
    assert.equal(second.status, 'already-instrumented', second.messages.join('\n'));
    assert.equal(doc.getText(), after, 'running it twice changed the document again');
  });

  it('writes the Python tracing setup with the receiver gRPC endpoint, one undo step', async () => {
    const doc = await open('python/pipeline.py');
    const before = doc.getText();
    const outcome = await scaffold('stagelight.addTracingSetup', { serviceName: 'fixture-py' });
    assert.equal(outcome.status, 'edited', outcome.messages.join('\n'));
    const grpc = api.receiver.endpoints?.grpc;
    assert.ok(grpc, 'the receiver is not running');
    assert.equal(outcome.setup?.endpoint, grpc);
    assert.equal(outcome.setup?.protocol, 'grpc');
    const text = doc.getText();
    assert.ok(text.includes(`OTLPSpanExporter(endpoint="${grpc}"`), text);
    assert.ok(text.includes('"service.name": "fixture-py"'), text);
    // pip runs with the project's interpreter (here no venv, no Python extension: python3).
    assert.match(outcome.setup?.dependencies.command ?? '', /^\S*python3?\S* -m pip install /);
    if (process.platform !== 'win32')
      assert.doesNotMatch(outcome.setup?.dependencies.command ?? '', /^python -m/);
    const again = await scaffold('stagelight.addTracingSetup', { serviceName: 'fixture-py' });
    assert.notEqual(again.status, 'edited', 'a second setup was written');
    assert.equal(doc.getText(), text);
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), before, 'one undo did not restore the text');
  });

  it('traces a TypeScript function and writes its setup with the HTTP endpoint', async () => {
    const doc = await open('ts/pipeline.ts');
    const line = lineOf(doc, 'export function notInstrumented');
    const offset = doc.offsetAt(new vscode.Position(line, 18));
    const traced = await scaffold('stagelight.traceFunction', doc.uri, offset);
    assert.equal(traced.status, 'edited', traced.messages.join('\n'));
    assert.ok(doc.getText().includes("startActiveSpan('notInstrumented'"), doc.getText());
    const setup = await scaffold('stagelight.addTracingSetup', { serviceName: 'fixture-ts' });
    assert.equal(setup.status, 'edited', setup.messages.join('\n'));
    const http = api.receiver.endpoints?.httpTraces;
    assert.ok(http, 'the receiver is not running');
    assert.equal(setup.setup?.protocol, 'http');
    assert.ok(doc.getText().includes(`url: '${http}'`), doc.getText());
    assert.match(setup.setup?.dependencies.command ?? '', /^npm install /);
  });

  it('runs the traced TypeScript file: its span arrives and the lens shows on the function', async function () {
    this.timeout(60_000);
    const doc = await open('ts/pipeline.ts');
    assert.ok(await doc.save(), 'could not save ts/pipeline.ts');
    // What a user does next: run it. tsx and @opentelemetry/* resolve from the project's
    // node_modules (the workspace copy lives under the repository).
    const script = `console.log(require(${JSON.stringify(doc.fileName)}).notInstrumented([1, 2, 3]))`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        'node',
        ['--import', 'tsx', '-e', script],
        { cwd: REPO_ROOT, timeout: 45_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    assert.equal(out.trim(), '6');
    const trace = await waitFor('the notInstrumented trace in the store', () =>
      api.receiver.engine?.store
        .list()
        .find((t) => t.rootName === 'notInstrumented' && t.rootService === 'fixture-ts'),
    );
    assert.equal(trace.spanCount, 1);
    assert.equal(trace.hasError, false);
    const spanLine = lineOf(doc, "startActiveSpan('notInstrumented'");
    const titles = await waitFor('a lens on the notInstrumented span', async () => {
      const t = (await stagelightLenses(doc)).get(spanLine) ?? [];
      return t.some((x) => x.startsWith('notInstrumented') && /n=1\b/.test(x)) ? t : undefined;
    });
    assert.ok(titles.length > 0);
  });

  it('sets up zero-code Python tracing and Run with Tracing starts it under opentelemetry-instrument', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder');
    const dir = join(folder.uri.fsPath, 'python-zero-code');
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'requirements.txt'), 'numpy\n');
      writeFileSync(join(dir, 'client.py'), 'import urllib.request\n\nprint("ok")\n');
      // Not `open`: this folder is removed at the end, not restored.
      const doc = await openFixture('python-zero-code/client.py');
      const setup = await scaffold('stagelight.addTracingSetup', doc.uri, { mode: 'zero-code' });
      assert.equal(setup.status, 'edited', setup.messages.join('\n'));
      assert.deepEqual(setup.zeroCode?.manifests, ['requirements.txt']);
      assert.match(doc.getText(), /^# OpenTelemetry zero-code instrumentation/);
      assert.doesNotMatch(doc.getText(), /import opentelemetry|from opentelemetry/);
      const reqFile = join(dir, 'requirements.txt');
      const req = vscode.workspace.textDocuments.find((d) => d.fileName === reqFile);
      assert.equal(req?.getText(), 'numpy\nopentelemetry-distro\nopentelemetry-exporter-otlp\n');
      assert.match(
        setup.zeroCode?.dependencies.command ?? '',
        /-m pip install opentelemetry-distro/,
      );
      // Only this spec's own documents: saving every open one could stop on another spec's
      // document (a save conflict or a prompt) and hold this test until it times out.
      assert.ok(await doc.save(), 'client.py saved');
      assert.ok(req !== undefined && (await req.save()), 'requirements.txt saved');

      const run = await vscode.commands.executeCommand<RunOutcome>(
        'stagelight.runWithTracing',
        doc.uri,
      );
      assert.equal(run?.status, 'started');
      assert.equal(run?.zeroCode, true);
      assert.match(run?.commandLine ?? '', /auto_instrumentation import run; run\(\)/);
      assert.equal(run?.env?.OTEL_TRACES_EXPORTER, 'otlp');
      assert.equal(run?.env?.OTEL_EXPORTER_OTLP_ENDPOINT, api.receiver.endpoints?.grpc);
      const again = await scaffold('stagelight.addTracingSetup', doc.uri, { mode: 'zero-code' });
      assert.equal(again.status, 'already-instrumented');
    } finally {
      // Its own tabs only: closing every editor would prompt for another spec's unsaved one.
      const own = vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter(
          (t) => t.input instanceof vscode.TabInputText && t.input.uri.fsPath.startsWith(dir),
        );
      await vscode.window.tabGroups.close(own);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
