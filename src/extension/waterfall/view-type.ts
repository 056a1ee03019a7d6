/**
 * The waterfall panel's view type: VS Code restores a panel of this type after a reload, and
 * package.json's `onWebviewPanel:` activation event names it. No `vscode` here, so a unit test
 * checks the two agree.
 */
export const WATERFALL_VIEW_TYPE = 'stagelight.waterfall';
