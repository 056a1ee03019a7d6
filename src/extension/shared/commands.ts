/**
 * The ids of every command the extension contributes (`contributes.commands` in package.json),
 * spelled once: each feature registers its own and refers to the others' by these names, so no
 * feature imports another to run its command. No `vscode` here, so a unit test checks the list
 * against package.json.
 */
export const COMMANDS = {
  // receiver/
  startReceiver: 'stagelight.startReceiver',
  stopReceiver: 'stagelight.stopReceiver',
  copyEndpoint: 'stagelight.copyEndpoint',
  clearTraces: 'stagelight.clearTraces',
  // traces-view/
  openTraceFile: 'stagelight.openTraceFile',
  exportTrace: 'stagelight.exportTrace',
  sortTraces: 'stagelight.traces.sort',
  filterTraces: 'stagelight.traces.filter',
  clearTraceFilter: 'stagelight.traces.clearFilter',
  // logs-view/
  filterLogs: 'stagelight.logs.filter',
  clearLogFilter: 'stagelight.logs.clearFilter',
  // waterfall/
  showWaterfall: 'stagelight.showWaterfall',
  openTrace: 'stagelight.openTrace',
  openSlowestTrace: 'stagelight.openSlowestTrace',
  // lenses/
  openStage: 'stagelight.openStage',
  // demo/
  runDemo: 'stagelight.runDemo',
  stopDemo: 'stagelight.stopDemo',
  openDemoSource: 'stagelight.openDemoSource',
  // insights/
  pinBaseline: 'stagelight.pinBaseline',
  clearBaseline: 'stagelight.clearBaseline',
  showInsights: 'stagelight.showInsights',
  samplingWhatIf: 'stagelight.samplingWhatIf',
  refreshInsights: 'stagelight.insights.refresh',
  addSpan: 'stagelight.insights.addSpan',
  // backend/
  pullTraces: 'stagelight.pullTraces',
  openTraceById: 'stagelight.openTraceById',
  setBackendToken: 'stagelight.setBackendToken',
  // scaffold/
  addTracingSetup: 'stagelight.addTracingSetup',
  traceFunction: 'stagelight.traceFunction',
  wrapSelectionInSpan: 'stagelight.wrapSelectionInSpan',
  addStageAttributes: 'stagelight.addStageAttributes',
  propagateContext: 'stagelight.propagateContext',
  runWithTracing: 'stagelight.runWithTracing',
  // assistant/
  copyMcpConfig: 'stagelight.copyMcpConfig',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
