/**
 * What the webview remembers across reloads of its page and of the window (VS Code's
 * `getState`/`setState`): the layout and which trace it showed, never trace data, which the
 * host sends again after `ready`. The shape is the protocol's (`WaterfallMemory`): the host reads
 * it too, when VS Code restores the panel after a window reload.
 */

import { readWaterfallMemory, type WaterfallMemory } from '../../../src/protocol/messages.js';
import type { ViewState } from './view-state.js';

export type PersistedState = WaterfallMemory;

export const readPersisted: (raw: unknown) => PersistedState = readWaterfallMemory;

export function persistedOf(s: ViewState): PersistedState {
  const traceId = s.model?.payload.traceId;
  return {
    detailsWidth: s.detailsWidth,
    follow: s.follow,
    ...(traceId !== undefined ? { traceId } : {}),
  };
}

/** Whether `s` would be remembered differently from `previous`. */
export function persistedChanged(s: ViewState, previous: ViewState): boolean {
  return (
    s.detailsWidth !== previous.detailsWidth ||
    s.follow !== previous.follow ||
    s.model?.payload.traceId !== previous.model?.payload.traceId
  );
}
