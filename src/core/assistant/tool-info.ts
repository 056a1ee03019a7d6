/**
 * The assistant tools' names and descriptions, apart from their schemas and code (tools.ts):
 * the editor registers the tools at activation with these, and loads the rest on first use.
 * package.json's `languageModelTools` repeats them (checked by test/unit/assistant-tools.test.ts).
 */

export const TOOL_NAMES = [
  'stagelight_insights',
  'stagelight_explain_trace',
  'stagelight_stage_stats',
  'stagelight_compare',
  'stagelight_find_traces',
] as const;

export type ToolName = (typeof TOOL_NAMES)[number];

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

export interface ToolInfo {
  readonly name: ToolName;
  readonly title: string;
  readonly description: string;
}

export const TOOLS: readonly ToolInfo[] = [
  {
    name: 'stagelight_insights',
    title: 'Stagelight insights',
    description:
      "Stagelight's current diagnoses of the traced ML pipeline (regressions, dominant stages, " +
      'queueing, errors, cold starts, LLM timings), most important first, with their numbers, ' +
      'example trace ids and the source line of each stage. Ask this first for "why is it slow?".',
  },
  {
    name: 'stagelight_explain_trace',
    title: 'Explain a trace',
    description:
      "A trace's critical path by stage against the typical trace of its operation, its longest " +
      'spans, queue waits and errors, with source lines. Give a trace id, or a stage to explain ' +
      'the slowest recent trace of that stage, or nothing for the slowest recent trace.',
  },
  {
    name: 'stagelight_stage_stats',
    title: 'Per-stage statistics',
    description:
      'The per-stage table of the recent window: span count, p50/p95/p99, errors, how often the ' +
      'stage is on the critical path and its share of it, with source lines. Filterable by ' +
      'service and name.',
  },
  {
    name: 'stagelight_compare',
    title: 'Compare traces',
    description:
      'Stage by stage critical-path time of two traces (a, b), of a trace against the typical ' +
      'trace or the baseline, or of the latest run against the pinned baseline.',
  },
  {
    name: 'stagelight_find_traces',
    title: 'Find traces',
    description:
      'Recent traces by service, operation (span name), minimum duration, error, or span ' +
      'attribute (key and value substrings); trace ids to pass to the other tools.',
  },
];
