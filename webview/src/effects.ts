/**
 * Carries out what a state's `effects` ask (see `state/view-state.ts`): commands to the host,
 * requests whose answers come back as actions, scrolls and focus in the DOM. A newer request of
 * the same kind supersedes the one in flight (the host client drops its answer), so the details
 * shown are always the latest selection's.
 */

import { RequestCancelled, type HostClient } from './host/host-client.js';
import type { Action } from './state/actions.js';
import type { Effect, FocusTarget, ViewState } from './state/view-state.js';

/** The part of the DOM that effects act on. */
export interface EffectTarget {
  scroll(e: Extract<Effect, { type: 'scroll' }>, s: ViewState): void;
  focus(target: FocusTarget): void;
}

/** A store listener that runs each new state's effects. */
export function createEffectRunner(
  host: HostClient,
  dispatch: (a: Action) => void,
  dom: EffectTarget,
): (s: ViewState) => void {
  const dropCancelled = (e: unknown): void => {
    if (!(e instanceof RequestCancelled)) throw e;
  };
  const run = (e: Effect, s: ViewState): void => {
    switch (e.type) {
      case 'post':
        host.command(e.command);
        break;
      case 'requestDetails':
        host
          .request(
            'spanDetails',
            { traceId: e.traceId, version: e.version, row: e.row },
            { channel: 'spanDetails' },
          )
          .then((response) => dispatch({ type: 'spanDetailsResult', key: e.key, response }))
          .catch(dropCancelled);
        break;
      case 'searchAttributes':
        host
          .request(
            'attributeSearch',
            { traceId: e.traceId, version: e.version, terms: [...e.terms] },
            { channel: 'attributeSearch' },
          )
          .then((response) => dispatch({ type: 'attributeSearchResult', key: e.key, response }))
          .catch(dropCancelled);
        break;
      case 'requestCompare':
        host
          .request(
            'compare',
            {
              traceId: e.traceId,
              against: e.against,
              ...(e.otherTraceId !== undefined ? { otherTraceId: e.otherTraceId } : {}),
            },
            { channel: 'compare' },
          )
          .then((response) => dispatch({ type: 'compareResult', key: e.key, response }))
          .catch(dropCancelled);
        break;
      case 'scroll':
        dom.scroll(e, s);
        break;
      case 'focus':
        dom.focus(e.target);
        break;
    }
  };
  return (s) => {
    for (const e of s.effects) run(e, s);
  };
}
