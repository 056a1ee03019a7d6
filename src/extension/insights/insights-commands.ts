/**
 * The insights commands: pin and clear the baseline, show the Insights view, the sampling
 * what-if, and "Add a span here" for untraced time. Each also takes its input as arguments
 * (and returns its result), so tests and other commands can run it without the prompts.
 */
import * as vscode from 'vscode';
import type { Baseline } from '../../core/analysis/baseline.js';
import type { SamplingOutcome, SamplingPolicy } from '../../core/analysis/insights/sampling.js';
import {
  parseRatio,
  parseThreshold,
  samplingLostText,
  samplingMarkdown,
} from '../../core/api/insights-payload.js';
import { shortSha } from '../../core/source/git-head.js';
import type { InsightsModel } from './insights-model.js';
import type { InsightsView } from './insights-view.js';
import type { WithReceiver } from '../receiver/registration.js';
import { COMMANDS } from '../shared/commands.js';
import type { SourceLocator } from '../shared/source-locator.js';
import { formatCount } from '../../shared/format.js';

/** Arguments of `stagelight.samplingWhatIf`; any missing one is asked for. */
export interface SamplingWhatIfArgs extends Partial<SamplingPolicy> {
  /** Open the Markdown report (default true). */
  show?: boolean;
}

export function registerInsightsCommands(
  model: InsightsModel,
  view: InsightsView,
  locator: SourceLocator,
  withReceiver: WithReceiver,
): vscode.Disposable[] {
  const cmd = (id: string, f: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, f);
  return [
    cmd(COMMANDS.pinBaseline, (label?: string) => withReceiver(() => pinBaseline(model, label))),
    cmd(COMMANDS.clearBaseline, () => {
      const had = model.baseline;
      model.clearBaseline();
      if (had !== undefined)
        void vscode.window.showInformationMessage(`Stagelight: baseline ${had.label} cleared.`);
    }),
    cmd(COMMANDS.showInsights, async () => {
      await view.reveal();
      return withReceiver(() => model.refreshNow());
    }),
    cmd(COMMANDS.refreshInsights, () => model.refreshNow()),
    cmd(COMMANDS.samplingWhatIf, (args?: SamplingWhatIfArgs) =>
      withReceiver(() => samplingWhatIf(model, typeof args === 'object' ? args : {})),
    ),
    cmd(COMMANDS.addSpan, (service?: string, name?: string, how?: 'wrap' | 'function') =>
      typeof service === 'string' && typeof name === 'string'
        ? addSpanHere(locator, service, name, how)
        : undefined,
    ),
  ];
}

async function pinBaseline(model: InsightsModel, label?: string): Promise<Baseline | undefined> {
  let text = typeof label === 'string' ? label : undefined;
  if (text === undefined) {
    const head = model.headCommit;
    text = await vscode.window.showInputBox({
      title: 'Pin the recent traces as the baseline',
      prompt: 'A label for it; the lenses and the Insights view then show changes against it',
      value:
        head !== undefined
          ? shortSha(head)
          : `baseline ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`,
    });
    if (text === undefined) return undefined;
  }
  const b = model.pin(text.trim() || 'baseline');
  if (b === undefined || b.rows.length === 0) {
    void vscode.window.showWarningMessage(
      'Stagelight: no traces in the latest run to pin as a baseline. Run the pipeline first.',
    );
    return b;
  }
  void vscode.window.showInformationMessage(
    `Stagelight: pinned the latest run's ${formatCount(b.rows.length, 'trace')} (${formatCount(b.stages.length, 'stage')}) as baseline ${b.label}.`,
  );
  return b;
}

async function samplingWhatIf(
  model: InsightsModel,
  args: SamplingWhatIfArgs,
): Promise<{ policy: SamplingPolicy; outcome: SamplingOutcome } | undefined> {
  let headRatio = typeof args.headRatio === 'number' ? args.headRatio : undefined;
  if (headRatio === undefined) {
    const text = await vscode.window.showInputBox({
      title: 'Sampling what-if (1/3): head sampling ratio',
      prompt: 'Share of traces head sampling keeps, decided on the trace id: 0.1 or 10%',
      value: '0.1',
      validateInput: (v) => (parseRatio(v) === undefined ? 'A ratio from 0 to 1, or a %' : null),
    });
    if (text === undefined) return undefined;
    headRatio = parseRatio(text);
    if (headRatio === undefined) return undefined;
  }
  let keepErrors = typeof args.keepErrors === 'boolean' ? args.keepErrors : undefined;
  if (keepErrors === undefined) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'Keep every trace with an error', keep: true },
        { label: 'No error rule', keep: false },
      ],
      { title: 'Sampling what-if (2/3): tail sampling on errors' },
    );
    if (pick === undefined) return undefined;
    keepErrors = pick.keep;
  }
  let latencyThresholdMs: number | undefined =
    typeof args.latencyThresholdMs === 'number' ? args.latencyThresholdMs : undefined;
  if (latencyThresholdMs === undefined && !('latencyThresholdMs' in args)) {
    const text = await vscode.window.showInputBox({
      title: 'Sampling what-if (3/3): tail sampling on latency',
      prompt: 'Keep every trace at least this long, e.g. 500ms or 1.5s; empty for no latency rule',
      value: '',
      validateInput: (v) =>
        parseThreshold(v) === undefined ? 'A duration like 500ms or 1.5s, or empty' : null,
    });
    if (text === undefined) return undefined;
    latencyThresholdMs = parseThreshold(text) ?? undefined;
  }
  const policy: SamplingPolicy = {
    headRatio,
    keepErrors,
    ...(latencyThresholdMs !== undefined ? { latencyThresholdMs } : {}),
  };
  const outcome = model.samplingWhatIf(policy);
  if (outcome === undefined) return undefined;
  if (args.show !== false) await showReport(samplingMarkdown(outcome, policy));
  void vscode.window.showInformationMessage(
    `Stagelight: with that sampling, ${outcome.tail.kept} of ${formatCount(outcome.traces, 'trace')} kept; ` +
      `${samplingLostText(outcome)}.`,
  );
  return { policy, outcome };
}

async function showReport(markdown: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
  try {
    await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
  } catch {
    // No Markdown preview (disabled built-in extension): the text reads well enough.
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

/**
 * Opens where the stage starts its span and hands over to the scaffolding: "Wrap Selection in
 * Span" for the code inside the span that no child covers (the user selects it), or "Trace
 * This Function" for a function called there. `how` skips the choice.
 */
async function addSpanHere(
  locator: SourceLocator,
  service: string,
  name: string,
  how?: 'wrap' | 'function',
): Promise<void> {
  if (locator.knownLocation(service, name) === undefined) {
    void vscode.window.showInformationMessage(
      `Stagelight: where "${name}" starts its span is not known yet. Open the file that starts it (its lens shows once matched), or add code.file.path and code.line.number to the span.`,
    );
    return;
  }
  await locator.reveal(service, name);
  let command =
    how === 'wrap'
      ? COMMANDS.wrapSelectionInSpan
      : how === 'function'
        ? COMMANDS.traceFunction
        : undefined;
  if (command === undefined) {
    const pick = await vscode.window.showQuickPick(
      [
        {
          label: '$(selection) Wrap Selection in Span',
          detail: `Select the code inside ${name} that no child span covers, then pick this`,
          command: COMMANDS.wrapSelectionInSpan,
        },
        {
          label: '$(symbol-function) Trace This Function',
          detail: 'Put the cursor in a function that runs inside the span, then pick this',
          command: COMMANDS.traceFunction,
        },
      ],
      { title: `Add a span inside ${name}`, ignoreFocusOut: true },
    );
    if (pick === undefined) return;
    command = pick.command;
  }
  try {
    await vscode.commands.executeCommand(command);
  } catch (e) {
    void vscode.window.showErrorMessage(`Stagelight: ${command} failed: ${(e as Error).message}`);
  }
}
