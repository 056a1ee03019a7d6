/**
 * Holds the current view state and runs actions through `reduce`. Listeners see each new state
 * with the one before it, so they can update only what changed and carry out its effects.
 *
 * An action dispatched while listeners run (an effect whose answer came synchronously) is
 * queued and reduced after them: listeners always see states in order, one at a time.
 */

import type { Action } from './actions.js';
import { reduce } from './reduce.js';
import type { ViewState } from './view-state.js';

export type Listener = (state: ViewState, previous: ViewState) => void;

export interface Store {
  getState(): ViewState;
  dispatch(action: Action): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void;
}

/** What input bindings and components get: the state to read, actions to emit. */
export type StoreAccess = Pick<Store, 'getState' | 'dispatch'>;

export function createStore(
  initial: ViewState,
  reducer: (s: ViewState, a: Action) => ViewState = reduce,
): Store {
  let state = initial;
  const listeners = new Set<Listener>();
  const queue: Action[] = [];
  let running = false;
  return {
    getState: () => state,
    dispatch(action) {
      queue.push(action);
      if (running) return;
      running = true;
      try {
        for (let a = queue.shift(); a !== undefined; a = queue.shift()) {
          const previous = state;
          state = reducer(previous, a);
          if (state !== previous) for (const l of [...listeners]) l(state, previous);
        }
      } finally {
        running = false;
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
