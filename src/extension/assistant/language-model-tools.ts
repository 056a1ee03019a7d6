/**
 * The assistant tools as VS Code language-model tools (`vscode.lm.registerTool`, declared in
 * package.json's `languageModelTools`): Copilot's agent mode, or any chat participant, calls
 * them by name. Each answers from the receiver this window runs, through its read API
 * (core/assistant/read-api-client.ts), with the text core/assistant/tools.ts builds. The tools
 * only read, so none asks for confirmation; none starts the receiver either (that opens ports).
 *
 * The tools' code and schemas load with the receiver bundle on first use.
 */
import * as vscode from 'vscode';
import { TOOL_NAMES, TOOLS, type ToolName } from '../../core/assistant/tool-info.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';
import type * as CoreBundle from '../receiver/core-bundle.js';

/** The receiver bundle's assistant part, loaded on first use (`loadCore`, wired in extension.ts). */
export type AssistantCore = Pick<
  typeof CoreBundle,
  'ReadApiClient' | 'ReadApiError' | 'runTool' | 'ToolInputError'
>;

const NOT_RUNNING =
  'The Stagelight receiver is not running in this VS Code window, so there are no traces to ' +
  'read. Ask the user to run "Stagelight: Start Receiver" (or "Stagelight: Run Demo Pipeline") ' +
  'and to send traces to it.';

class StagelightTool implements vscode.LanguageModelTool<Record<string, unknown>> {
  constructor(
    private readonly name: ToolName,
    private readonly receiver: ReceiverController,
    private readonly load: () => AssistantCore,
  ) {}

  prepareInvocation(): vscode.PreparedToolInvocation {
    const title = TOOLS.find((t) => t.name === this.name)?.title ?? this.name;
    // Read-only: a progress message, no confirmation.
    return { invocationMessage: `Stagelight: ${title.toLowerCase()}` };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<Record<string, unknown>>,
  ): Promise<vscode.LanguageModelToolResult> {
    const endpoints = this.receiver.endpoints;
    const text =
      endpoints === undefined ? NOT_RUNNING : await this.answer(endpoints.api, options.input);
    return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
  }

  private async answer(api: string, input: unknown): Promise<string> {
    const { ReadApiClient, runTool, ToolInputError, ReadApiError } = this.load();
    try {
      return (await runTool(new ReadApiClient({ url: api }), this.name, input)).text;
    } catch (e) {
      // Said to the model, which can correct its input or tell the user.
      if (e instanceof ToolInputError || e instanceof ReadApiError) return `Error: ${e.message}`;
      throw e;
    }
  }
}

export function registerLanguageModelTools(
  receiver: ReceiverController,
  load: () => AssistantCore,
): vscode.Disposable[] {
  // `vscode.lm` is stable from VS Code 1.95; an editor without it just gets no tools.
  if (typeof vscode.lm?.registerTool !== 'function') return [];
  return TOOL_NAMES.map((name) =>
    vscode.lm.registerTool(name, new StagelightTool(name, receiver, load)),
  );
}
