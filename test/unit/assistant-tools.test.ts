/**
 * The assistant tools' declarations: package.json's `languageModelTools` are the ones the core
 * defines (same names, descriptions and input schemas), inputs are checked against the schemas,
 * and the MCP client configuration starts `stagelight mcp`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TOOLS,
  TOOL_NAMES,
  ToolInputError,
  parseToolInput,
  toolJsonSchema,
} from '../../src/core/assistant/tools.js';
import { mcpConfigSnippet, mcpLaunch } from '../../src/core/assistant/mcp-config.js';

const pkg = JSON.parse(
  readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'),
) as {
  contributes: {
    languageModelTools: Array<{
      name: string;
      displayName: string;
      modelDescription: string;
      inputSchema: unknown;
    }>;
  };
};

test('package.json declares every tool with the core schema and description', () => {
  const declared = pkg.contributes.languageModelTools;
  assert.deepEqual(
    declared.map((t) => t.name),
    [...TOOL_NAMES],
  );
  for (const t of declared) {
    const tool = TOOLS.find((x) => x.name === t.name)!;
    assert.equal(t.displayName, tool.title);
    assert.equal(t.modelDescription, tool.description);
    assert.deepEqual(t.inputSchema, toolJsonSchema(tool.name), `${t.name}: regenerate its schema`);
  }
});

test('inputs: defaults pass, unknown keys, bad ids and out-of-range limits do not', () => {
  assert.deepEqual(parseToolInput('stagelight_insights', undefined), {});
  assert.deepEqual(parseToolInput('stagelight_explain_trace', { traceId: 'A'.repeat(32) }), {
    traceId: 'A'.repeat(32),
  });
  const bad: Array<[Parameters<typeof parseToolInput>[0], unknown, RegExp]> = [
    ['stagelight_insights', { sudo: true }, /unrecognized key/i],
    ['stagelight_insights', 'all of them', /expected object/i],
    ['stagelight_explain_trace', { traceId: 'g'.repeat(32) }, /32 hexadecimal/],
    ['stagelight_explain_trace', { stage: '' }, /stage/],
    ['stagelight_stage_stats', { sortBy: 'name' }, /sortBy/],
    ['stagelight_stage_stats', { maxBytes: 1_000_000 }, /maxBytes/],
    ['stagelight_find_traces', { limit: 0 }, /limit/],
    ['stagelight_find_traces', { minDurationMs: -1 }, /minDurationMs/],
    ['stagelight_compare', { against: 'yesterday' }, /against/],
  ];
  for (const [tool, input, message] of bad) {
    assert.throws(
      () => parseToolInput(tool, input),
      (e: unknown) => e instanceof ToolInputError && message.test(e.message),
      `${tool} ${JSON.stringify(input)}`,
    );
  }
});

test('MCP configuration: VS Code and generic shapes start `stagelight mcp`', () => {
  const launch = mcpLaunch('/ext/dist/cli.js', 'http://127.0.0.1:4318/api');
  assert.deepEqual(JSON.parse(mcpConfigSnippet(launch, 'vscode')), {
    servers: {
      stagelight: {
        type: 'stdio',
        command: 'node',
        args: ['/ext/dist/cli.js', 'mcp', '--api', 'http://127.0.0.1:4318/api'],
      },
    },
  });
  assert.deepEqual(JSON.parse(mcpConfigSnippet(mcpLaunch('/c.js', undefined), 'generic')), {
    mcpServers: { stagelight: { command: 'node', args: ['/c.js', 'mcp'] } },
  });
});
