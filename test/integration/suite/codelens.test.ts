/**
 * Latency CodeLenses on the lines that start spans, in the four languages of the fixture
 * workspace, through `vscode.executeCodeLensProvider` (what the editor itself calls).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { lineOf, openFixture, startReceiver, stagelightLenses, waitFor } from '../helpers';
import { sendPipelineTraces } from '../otel';

/** Fixture file -> (text of the line that starts the span -> span name the lens must show). */
const EXPECTED: Record<string, Record<string, string>> = {
  'python/pipeline.py': {
    'start_as_current_span("inference_request")': 'inference_request',
    'start_as_current_span("preprocessing")': 'preprocessing',
    '@tracer.start_as_current_span("embedding")': 'embedding',
    'tracer.start_span(STAGE_RERANK)': 'reranking',
  },
  'ts/pipeline.ts': {
    "startActiveSpan('inference_request'": 'inference_request',
    "startSpan('preprocessing')": 'preprocessing',
    'startActiveSpan(STAGE_GENERATION': 'generation',
  },
  'go/pipeline.go': {
    'tracer.Start(ctx, "inference_request")': 'inference_request',
    'tracer.Start(ctx, "retrieve_documents")': 'retrieve_documents',
  },
  'java/Pipeline.java': {
    'spanBuilder("inference_request")': 'inference_request',
    'spanBuilder("embedding")': 'embedding',
  },
};

describe('latency CodeLenses', () => {
  before(async () => {
    const { grpc } = await startReceiver();
    await sendPipelineTraces(grpc, 'codelens-spec', 4);
  });
  after(async () => {
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  for (const [file, lines] of Object.entries(EXPECTED)) {
    it(`shows a lens on each span-start line of ${file}, and nowhere else`, async () => {
      const doc = await openFixture(file);
      const expected = new Map(
        Object.entries(lines).map(([text, name]) => [lineOf(doc, text), name]),
      );
      const byLine = await waitFor(`lenses on ${file}`, async () => {
        const got = await stagelightLenses(doc);
        return got.size >= expected.size ? got : undefined;
      });
      for (const [line, name] of expected) {
        const titles = byLine.get(line) ?? [];
        assert.ok(
          titles.some((t) => t.startsWith(name) && /p50 .*\bn=4\b/.test(t)),
          `${file}:${line + 1} (${name}) has lenses [${titles.join(' | ')}]`,
        );
      }
      const unexpected = [...byLine.keys()].filter((l) => !expected.has(l));
      assert.deepEqual(
        unexpected.map((l) => `${l + 1}: ${byLine.get(l)?.join(' | ')}`),
        [],
        `${file} has lenses on lines that start no span`,
      );
    });
  }

  it('computes every lens of a 2,000-line file (time logged)', async () => {
    const body = Array.from({ length: 400 }, (_, i) =>
      [
        `def stage_${i}():`,
        `    with tracer.start_as_current_span("preprocessing"):`,
        `        x = ${i}`,
        `        return x`,
        '',
      ].join('\n'),
    ).join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: body });
    await stagelightLenses(doc); // first call scans; later ones hit the per-version cache
    const t0 = performance.now();
    const byLine = await stagelightLenses(doc);
    const ms = performance.now() - t0;
    assert.equal(byLine.size, 400);
    // Measured, not asserted: the lens computation's own figure (goal < 5 ms) is in
    // docs/benchmarks.md; this one includes the command round trip.
    console.log(`executeCodeLensProvider took ${ms.toFixed(0)} ms on 2,000 lines`);
  });
});
