/**
 * The assistant tools in the extension host: the five language-model tools are registered
 * (package.json `languageModelTools` + `vscode.lm.registerTool`) and answer through
 * `vscode.lm.invokeTool` from the receiver this window runs, fed by the official OTLP gRPC
 * exporter; the MCP configuration command is there.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { startReceiver, waitFor } from '../helpers';
import { FIXTURE_STAGES, sendPipelineTraces } from '../otel';

const SERVICE = 'assistant-spec';
const NAMES = [
  'stagelight_insights',
  'stagelight_explain_trace',
  'stagelight_stage_stats',
  'stagelight_compare',
  'stagelight_find_traces',
];

async function invoke(name: string, input: object): Promise<string> {
  const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
  const parts = result.content.filter(
    (p): p is vscode.LanguageModelTextPart => p instanceof vscode.LanguageModelTextPart,
  );
  assert.equal(parts.length, 1, `${name}: one text part`);
  return parts[0]!.value;
}

describe('assistant tools', () => {
  let ids: string[] = [];

  before(async () => {
    const { api, grpc } = await startReceiver();
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    const slow = FIXTURE_STAGES.map((s) => (s.name === 'reranking' ? { ...s, ms: 1500 } : s));
    ids = [
      ...(await sendPipelineTraces(grpc, SERVICE, 4)),
      ...(await sendPipelineTraces(grpc, SERVICE, 1, slow)),
    ];
    // Analysed (settled) traces: the slow one is then compared with the four others.
    await waitFor('the traces analysed', () =>
      (api.receiver.engine?.explain(ids[4]!)?.peers ?? 0) >= 4 ? true : undefined,
    );
  });
  after(async () => {
    await vscode.commands.executeCommand('stagelight.clearTraces', { confirm: false });
    await vscode.commands.executeCommand('stagelight.stopReceiver');
  });

  it('registers the five tools with their input schemas', () => {
    for (const name of NAMES) {
      const tool = vscode.lm.tools.find((t) => t.name === name);
      assert.ok(tool, `${name} is registered`);
      assert.equal((tool.inputSchema as { type?: string } | undefined)?.type, 'object');
    }
  });

  it('explains the slowest trace of a stage: reranking, against typical', async () => {
    const text = await invoke('stagelight_explain_trace', { stage: 'reranking' });
    assert.match(text, new RegExp(`^Trace ${ids[4]}: "${SERVICE}"/"inference_request" took`, 'm'));
    assert.match(text, new RegExp(`^ {2}"${SERVICE}"/"reranking" 1\\.50 s vs 400 ms`, 'm'));
    assert.ok(Buffer.byteLength(text) <= 4096);
  });

  it('answers every tool, and says what is wrong with bad input', async () => {
    assert.match(await invoke('stagelight_stage_stats', { name: 'rerank' }), /"reranking": n=5/);
    assert.match(
      await invoke('stagelight_find_traces', { minDurationMs: 1000 }),
      /^1 trace found/m,
    );
    assert.match(
      await invoke('stagelight_compare', { a: ids[0], b: ids[4] }),
      /"reranking" 400 ms → 1\.50 s/,
    );
    assert.match(await invoke('stagelight_insights', {}), /^Latest run: /m);
    assert.match(await invoke('stagelight_compare', { a: ids[0] }), /^Error: give both a and b/);
  });

  it('offers the MCP server configuration as a command', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('stagelight.copyMcpConfig'));
  });
});
