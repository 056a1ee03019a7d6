/**
 * The canvas's colours from VS Code's theme variables (`--vscode-*`), as a pure function of a
 * variable lookup and the theme kind, so that Node tests run it on the variables of VS Code's
 * own themes. `ui/theme.ts` feeds it the page's computed style.
 *
 * Each foreground is read as the variable that goes with its background, with VS Code's own
 * fallback when a theme leaves it unset: a list item on the active selection is drawn in
 * `list.activeSelectionForeground`, or in the plain `foreground` where the theme defines none
 * (High Contrast Light does that, over a faint selection tint). High-contrast themes mark the
 * selection and search matches with borders and leave those backgrounds unset: then there is no
 * fill (''), not a dark theme's stand-in. The renderer (`./row-style.ts`) still checks every pair
 * it draws and corrects what a theme gets wrong.
 */

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  background: string;
  foreground: string;
  /** The editor's text colour: a second candidate where `foreground` is too faint. */
  editorForeground: string;
  muted: string;
  border: string;
  /** The selected row's fill; '' for none (the outline marks it). */
  selection: string;
  selectionForeground: string;
  hover: string;
  hoverForeground: string;
  /** A search match's fill; '' for none. */
  match: string;
  /** A search match's outline; '' for none. */
  matchBorder: string;
  error: string;
  critical: string;
  /** The focused list item's outline, drawn around the selected row in high contrast. */
  focus: string;
  gap: string;
  /** Log marks of WARN lines, and of INFO lines (ERROR and FATAL take `error`). */
  warning: string;
  info: string;
  /** Bar colours, one per service (cycled). */
  palette: string[];
  font: string;
  fontSize: number;
  highContrast: boolean;
}

/** `read(name, fallback)`: the variable's value, or `fallback` when the theme leaves it unset. */
export type ReadVariable = (name: string, fallback: string) => string;

/** The body classes VS Code sets, strongest first, and the kind each names. */
const KIND_CLASSES: readonly (readonly [string, ThemeKind])[] = [
  ['vscode-high-contrast-light', 'high-contrast-light'],
  ['vscode-high-contrast', 'high-contrast'],
  ['vscode-light', 'light'],
  ['vscode-dark', 'dark'],
];

/** The theme kind the body's classes name (dark when none does). */
export function themeKindOf(classes: { contains(c: string): boolean }): ThemeKind {
  return KIND_CLASSES.find(([c]) => classes.contains(c))?.[1] ?? 'dark';
}

export function themeFromVariables(read: ReadVariable, kind: ThemeKind): Theme {
  const fontSize = parseFloat(read('--vscode-font-size', '13px')) || 13;
  const highContrast = kind === 'high-contrast' || kind === 'high-contrast-light';
  const foreground = read('--vscode-foreground', '#cccccc');
  const focus = read('--vscode-focusBorder', '#007fd4');
  return {
    kind,
    background: read('--vscode-editor-background', '#1e1e1e'),
    foreground,
    editorForeground: read('--vscode-editor-foreground', foreground),
    muted: read('--vscode-descriptionForeground', '#9d9d9d'),
    border: read('--vscode-panel-border', read('--vscode-contrastBorder', '#80808059')),
    selection: read('--vscode-list-activeSelectionBackground', highContrast ? '' : '#04395e'),
    selectionForeground: read('--vscode-list-activeSelectionForeground', foreground),
    hover: read('--vscode-list-hoverBackground', highContrast ? '' : '#2a2d2e'),
    hoverForeground: read('--vscode-list-hoverForeground', foreground),
    match: read('--vscode-editor-findMatchHighlightBackground', highContrast ? '' : '#ea5c0055'),
    matchBorder: read('--vscode-editor-findMatchHighlightBorder', ''),
    error: read('--vscode-errorForeground', '#f48771'),
    critical: read('--vscode-editor-foreground', foreground),
    focus: read('--vscode-list-focusOutline', focus),
    gap: read('--vscode-editorWarning-foreground', '#cca700'),
    warning: read('--vscode-editorWarning-foreground', '#cca700'),
    info: read('--vscode-editorInfo-foreground', '#3794ff'),
    palette: [
      read('--vscode-charts-blue', '#3794ff'),
      read('--vscode-charts-green', '#89d185'),
      read('--vscode-charts-purple', '#b180d7'),
      read('--vscode-charts-yellow', '#cca700'),
      read('--vscode-charts-orange', '#d18616'),
      read('--vscode-terminal-ansiCyan', '#11a8cd'),
    ],
    font: read('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize,
    highContrast,
  };
}
