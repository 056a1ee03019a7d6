/**
 * The waterfall's view state as plain data: which trace is shown (and which one waits behind
 * the banner), what is collapsed, filtered, selected and hovered, the time window, the column
 * widths, and what the side panel shows. `reduce` (./reduce.ts) is the only thing that makes a
 * new one; everything else reads it.
 *
 * Invariants:
 *   - The typed arrays in a state are never written after the state is made: a change copies
 *     (`collapsed` is copied before a toggle), so an older state stays what it was.
 *   - `visible` and `filter` are derived from `model`, `collapsed`, `query`, `filterMode` and
 *     the attribute search's answer, and are recomputed whenever one of those changes (only
 *     then: at 1M spans they cost a pass over every row).
 *   - `selected` and `hover` are rows of `model` or -1.
 */

import type {
  AttributeTerm,
  InsightsNotification,
  ReceiverNotification,
  SpanDetails,
  TraceNotification,
  TraceSummaryPayload,
  WebviewCommand,
} from '../../../src/protocol/messages.js';
import type { TimeWindow } from '../model/layout.js';
import type { TraceModel } from '../model/trace-model.js';
import type { CompareAgainst, CompareView } from './compare.js';
import type { PersistedState } from './persisted.js';

export type FilterMode = 'filter' | 'highlight';

/** The search's outcome over the shown trace. */
export interface FilterResult {
  /** Rows kept by the filter (matches and their ancestors), or null: every row is kept. */
  readonly mask: Uint8Array | null;
  /** Matches to highlight, or null when the query is empty. */
  readonly matches: Uint8Array | null;
  /** The matching rows, ascending (next/previous match). */
  readonly matchRows: Int32Array;
  readonly count: number;
  /** Terms that could not be read. */
  readonly errors: readonly string[];
  /** The query has terms (an unreadable term alone does not count). */
  readonly active: boolean;
  /** Attribute terms wait for the host's answer. */
  readonly searching: boolean;
}

/** The host's answer for the attribute terms of one trace version, once it came. */
export interface AttributeSearch {
  /** Trace id, version and terms: a new key is a new request. */
  readonly key: string;
  readonly rows: readonly number[] | undefined;
}

/** What the details part of the side panel shows. */
export type DetailsView =
  | { readonly kind: 'empty'; readonly text: string }
  /** Waiting for the host's answer about `row`; `key` names the request that answers it. */
  | { readonly kind: 'loading'; readonly key: string; readonly row: number; readonly name: string }
  | { readonly kind: 'shown'; readonly details: SpanDetails; readonly traceStartMs: number };

export type FocusTarget = 'search' | 'tree' | 'details';

/**
 * What the last action asks of the world beyond the state. The reducer only describes these;
 * the coordinator carries them out after the DOM shows the new state.
 */
export type Effect =
  | { readonly type: 'post'; readonly command: WebviewCommand }
  | {
      readonly type: 'requestDetails';
      readonly key: string;
      readonly traceId: string;
      readonly version: number;
      readonly row: number;
    }
  | {
      readonly type: 'searchAttributes';
      readonly key: string;
      readonly traceId: string;
      readonly version: number;
      readonly terms: readonly AttributeTerm[];
    }
  | {
      readonly type: 'requestCompare';
      readonly key: string;
      readonly traceId: string;
      readonly against: CompareAgainst;
      readonly otherTraceId?: string;
    }
  /** Scroll to the top / bring a row into view (if it is not) / put a visible index at the top. */
  | { readonly type: 'scroll'; readonly to: 'top' }
  | { readonly type: 'scroll'; readonly to: 'row'; readonly row: number }
  | { readonly type: 'scroll'; readonly to: 'index'; readonly index: number }
  | { readonly type: 'focus'; readonly target: FocusTarget };

export interface ViewState {
  readonly model: TraceModel | null;
  /** Shown instead of the summary (a trace that could not be shown) until a trace loads. */
  readonly notice: string | null;
  /** A trace the host pushed while the user inspected a span: shown on request. */
  readonly pending: TraceNotification | null;
  /** The recent traces, newest first (the picker). */
  readonly traces: readonly TraceSummaryPayload[];
  readonly follow: boolean;
  /** The host's latest insights; null before the first, 'cleared' after `cleared`. */
  readonly insights: InsightsNotification | 'cleared' | null;
  /** Where the receiver listens (the empty state says so); null while stopped or not yet told. */
  readonly receiver: ReceiverNotification['endpoints'];

  readonly collapsed: Uint8Array;
  readonly query: string;
  readonly filterMode: FilterMode;
  readonly attributeSearch: AttributeSearch | undefined;
  readonly filter: FilterResult;
  /** The rows shown, ascending (derived; see the invariants above). */
  readonly visible: Int32Array;

  readonly selected: number;
  readonly hover: number;
  readonly details: DetailsView;
  /** What the shown trace is compared with, and the answer (`./compare.ts`). */
  readonly compare: CompareView;

  readonly window: TimeWindow;
  readonly showCritical: boolean;
  /** Width of the tree column, CSS px. */
  readonly treeWidth: number;
  /** Width of the side panel, CSS px. */
  readonly detailsWidth: number;

  /** Asked for by the action that made this state; empty for the next one unless it asks too. */
  readonly effects: readonly Effect[];
}

export const NO_EFFECTS: readonly Effect[] = Object.freeze([]);

export const DETAILS_PROMPT = 'Select a span to see its details.';

export const NO_FILTER: FilterResult = {
  mask: null,
  matches: null,
  matchRows: new Int32Array(0),
  count: 0,
  errors: [],
  active: false,
  searching: false,
};

/** The state before the first trace; `saved` is what the webview remembered (./persisted.ts). */
export function initialViewState(saved: PersistedState = {}): ViewState {
  return {
    model: null,
    notice: null,
    pending: null,
    traces: [],
    follow: true,
    insights: null,
    receiver: null,
    collapsed: new Uint8Array(0),
    query: '',
    filterMode: 'filter',
    attributeSearch: undefined,
    filter: NO_FILTER,
    visible: new Int32Array(0),
    selected: -1,
    hover: -1,
    details: { kind: 'empty', text: DETAILS_PROMPT },
    compare: { kind: 'off' },
    window: { start: 0, end: 1 },
    showCritical: true,
    treeWidth: 320,
    detailsWidth: saved.detailsWidth ?? 380,
    effects: NO_EFFECTS,
  };
}

/** `s` with `effect` added to what it asks for. */
export function withEffect(s: ViewState, effect: Effect): ViewState {
  return { ...s, effects: [...s.effects, effect] };
}
