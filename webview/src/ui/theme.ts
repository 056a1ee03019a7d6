/**
 * The page's side of the theme: the canvas colours read from the computed style of the body
 * (`../render/theme-colors.ts` decides which variable each colour is), and a watch for theme
 * switches. VS Code rewrites the root element's `style` on every switch and the body's classes
 * (`vscode-light`, `vscode-dark`, `vscode-high-contrast`, `vscode-high-contrast-light`) on a
 * switch of kind.
 */

import { themeFromVariables, themeKindOf, type Theme } from '../render/theme-colors.js';
import { cssVar } from './dom.js';

export type { Theme, ThemeKind } from '../render/theme-colors.js';

export function readTheme(): Theme {
  return themeFromVariables(cssVar, themeKindOf(document.body.classList));
}

/** Calls `onChange` whenever VS Code switches the theme. */
export function watchTheme(onChange: () => void): void {
  const observer = new MutationObserver(onChange);
  // Two themes of one kind differ only in the root's variables: the body's classes stay.
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  observer.observe(document.body, {
    attributes: true,
    attributeFilter: ['class', 'data-vscode-theme-kind', 'style'],
  });
}
