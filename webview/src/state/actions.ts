/**
 * Everything that changes the view state: what the user did (translated from DOM events by
 * `input/` and `ui/`, which emit these and nothing else) and what the host said. Pixels are
 * turned into rows and times before an action is made; an action names what happened to the
 * waterfall, not to the mouse.
 */

import type {
  AttributeSearchResponse,
  CompareResponse,
  HostNotification,
  SpanDetailsResponse,
} from '../../../src/protocol/messages.js';
import type { KeyAction } from '../model/keyboard.js';
import type { TimeWindow } from '../model/layout.js';
import type { CompareAgainst } from './compare.js';
import type { FilterMode, FocusTarget } from './view-state.js';

/** What selecting a row also does. */
export interface SelectOptions {
  /** Scroll it into view. */
  readonly scroll?: boolean;
  /** Ask the host for its details. */
  readonly details?: boolean;
  /** Zoom to it when it is outside the time window. */
  readonly zoom?: boolean;
}

export type UserAction =
  | ({ readonly type: 'select'; readonly row: number } & SelectOptions)
  | { readonly type: 'clearSelection' }
  | { readonly type: 'toggle'; readonly row: number }
  | { readonly type: 'hover'; readonly row: number }
  /** A key binding (`model/keyboard.ts`), from the tree or anywhere outside a field. */
  | { readonly type: 'key'; readonly action: KeyAction }
  | { readonly type: 'setQuery'; readonly query: string }
  | { readonly type: 'setFilterMode'; readonly mode: FilterMode }
  | { readonly type: 'gotoError'; readonly dir: 1 | -1 }
  | { readonly type: 'gotoMatch'; readonly dir: 1 | -1 }
  | { readonly type: 'expandAll' }
  | { readonly type: 'collapseAll' }
  | { readonly type: 'expandToDepth'; readonly depth: number }
  /** Zoom by `factor` (< 1 zooms in) around `anchor` ms (default: the window's middle). */
  | { readonly type: 'zoom'; readonly factor: number; readonly anchor?: number }
  | { readonly type: 'pan'; readonly byMs: number }
  | { readonly type: 'setWindow'; readonly window: TimeWindow }
  | { readonly type: 'resetZoom' }
  /** A click in the minimap: centre the window on `time`, scroll to `row`. */
  | { readonly type: 'minimapJump'; readonly time: number; readonly row: number }
  /** The column divider dragged to `x` px in a timeline `width` px wide. */
  | { readonly type: 'resizeTree'; readonly x: number; readonly width: number }
  /** The timeline is now `width` px wide. */
  | { readonly type: 'resized'; readonly width: number }
  /** The side panel dragged to `px` wide in a window `windowWidth` px wide. */
  | { readonly type: 'resizeDetails'; readonly px: number; readonly windowWidth: number }
  | { readonly type: 'setFollow'; readonly follow: boolean }
  | { readonly type: 'showCritical'; readonly show: boolean }
  /** "Show latest" on the banner. */
  | { readonly type: 'showPending' }
  | { readonly type: 'openTrace'; readonly traceId: string }
  /** Compare the shown trace (and the ones shown after it) with something, or stop. */
  | {
      readonly type: 'compareWith';
      readonly against: CompareAgainst | 'off';
      readonly otherTraceId?: string;
    }
  /** "Go to source" for the selected span. */
  | { readonly type: 'openSource' }
  | { readonly type: 'focus'; readonly target: FocusTarget };

export type HostAction =
  | { readonly type: 'host'; readonly message: HostNotification }
  /** The answer to the `requestDetails` effect with this key. */
  | {
      readonly type: 'spanDetailsResult';
      readonly key: string;
      readonly response: SpanDetailsResponse;
    }
  /** The answer to the `searchAttributes` effect with this key. */
  | {
      readonly type: 'attributeSearchResult';
      readonly key: string;
      readonly response: AttributeSearchResponse;
    }
  /** The answer to the `requestCompare` effect with this key. */
  | { readonly type: 'compareResult'; readonly key: string; readonly response: CompareResponse };

export type Action = UserAction | HostAction;
