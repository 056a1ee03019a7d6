/**
 * Colours for the canvas, read from VS Code's theme variables (`--vscode-*`), which the editor
 * sets on the webview's root and changes with the theme. Re-read when the body's theme class
 * changes (`vscode-light`, `vscode-dark`, `vscode-high-contrast`, `vscode-high-contrast-light`).
 */

import { cssVar } from './dom.js';

export interface Theme {
  background: string;
  foreground: string;
  muted: string;
  border: string;
  selection: string;
  selectionForeground: string;
  hover: string;
  match: string;
  error: string;
  critical: string;
  focus: string;
  gap: string;
  /** Bar colours, one per service (cycled). */
  palette: string[];
  font: string;
  fontSize: number;
  highContrast: boolean;
}

export function readTheme(): Theme {
  const fontSize = parseFloat(cssVar('--vscode-font-size', '13px')) || 13;
  const family = cssVar('--vscode-font-family', 'system-ui, sans-serif');
  const highContrast =
    document.body.classList.contains('vscode-high-contrast') ||
    document.body.classList.contains('vscode-high-contrast-light');
  return {
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#9d9d9d'),
    border: cssVar('--vscode-panel-border', cssVar('--vscode-contrastBorder', '#80808059')),
    selection: cssVar('--vscode-list-activeSelectionBackground', '#04395e'),
    selectionForeground: cssVar('--vscode-list-activeSelectionForeground', '#ffffff'),
    hover: cssVar('--vscode-list-hoverBackground', '#2a2d2e'),
    match: cssVar('--vscode-editor-findMatchHighlightBackground', '#ea5c0055'),
    error: cssVar('--vscode-errorForeground', '#f48771'),
    critical: cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#cccccc')),
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    gap: cssVar('--vscode-editorWarning-foreground', '#cca700'),
    palette: [
      cssVar('--vscode-charts-blue', '#3794ff'),
      cssVar('--vscode-charts-green', '#89d185'),
      cssVar('--vscode-charts-purple', '#b180d7'),
      cssVar('--vscode-charts-yellow', '#cca700'),
      cssVar('--vscode-charts-orange', '#d18616'),
      cssVar('--vscode-terminal-ansiCyan', '#11a8cd'),
    ],
    font: family,
    fontSize,
    highContrast,
  };
}

/** Calls `onChange` whenever VS Code switches the theme (it rewrites the body's classes). */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, {
    attributes: true,
    attributeFilter: ['class', 'data-vscode-theme-kind', 'style'],
  });
}
