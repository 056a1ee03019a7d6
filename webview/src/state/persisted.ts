/**
 * What the webview remembers across reloads of its page (VS Code's `getState`/`setState`, kept
 * by the editor while the panel lives): layout only, never trace data, which the host sends
 * again after `ready`. Read defensively: it may come from an older version of the webview.
 */

import type { ViewState } from './view-state.js';

export interface PersistedState {
  /** Width of the side panel, CSS px (clamped to the window when applied). */
  readonly detailsWidth?: number;
}

export function readPersisted(raw: unknown): PersistedState {
  if (typeof raw !== 'object' || raw === null) return {};
  const w = (raw as Record<string, unknown>).detailsWidth;
  return typeof w === 'number' && Number.isFinite(w) && w > 0 ? { detailsWidth: w } : {};
}

export function persistedOf(s: ViewState): PersistedState {
  return { detailsWidth: s.detailsWidth };
}
