/**
 * What each row state is drawn in: its fill, outline, text, muted text, marks and bar colours,
 * decided once per theme from the theme's colours and then only looked up per row.
 *
 * Invariant: every colour here is opaque and readable on the row's background as drawn (a
 * translucent fill composited over the editor background): text at 4.5:1 or more, bars, marks
 * and the twisty at 3:1 or more. A theme's colour is used as it is when it passes; one that does
 * not is moved toward the row's text colour (or, for text, toward black or white) just far enough
 * to pass, so it keeps its hue where it can. A dimmed bar (off the critical path) is a faint fill
 * inside an edge in its full colour: the faint fill says "not on the path", the edge keeps the
 * span's extent readable.
 */

import {
  contrast,
  cssOf,
  GRAPHIC_CONTRAST,
  over,
  parseRgba,
  TEXT_CONTRAST,
  type Rgba,
} from './contrast.js';
import type { Theme } from './theme-colors.js';

export type RowState = 'normal' | 'selected' | 'hover' | 'match';

export interface RowStyle {
  /** Drawn over the whole row, or null: the background shows. Colours below are checked
   * against this fill as composited over the editor background. */
  fill: string | null;
  /** Drawn around the row, or null. */
  outline: { color: string; dashed: boolean } | null;
  /** Name and duration label. */
  text: string;
  /** Service name, twisty, source mark. */
  muted: string;
  /** The failed span's mark and bar outline. */
  error: string;
  /** The "!" inside the error mark. */
  errorInk: string;
  /** The underline of critical-path segments. */
  critical: string;
  /** Queue-wait hatching. */
  gap: string;
  /**
   * Log marks by level: [TRACE/DEBUG/unspecified, INFO, WARN, ERROR/FATAL] (see `logMarkColor`).
   */
  logs: [string, string, string, string];
  /** Per service (cycled like `Theme.palette`): the bar's full colour on this row. */
  bars: string[];
}

export type RowStyles = Record<RowState, RowStyle>;

const BLACK: Rgba = [0, 0, 0, 1];
const WHITE: Rgba = [255, 255, 255, 1];
/** Stand-in for a colour the page could not parse (a named colour): mid grey. */
const GREY: Rgba = [128, 128, 128, 1];

/**
 * Channels rounded as the canvas will store them, so that a contrast checked here is the
 * contrast drawn (a colour at 3.0:1 before rounding can be 2.99:1 after).
 */
function rounded(c: Rgba): Rgba {
  return [Math.round(c[0]), Math.round(c[1]), Math.round(c[2]), 1];
}

function mix(a: Rgba, b: Rgba, t: number): Rgba {
  return rounded([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t, 1]);
}

/**
 * `color` on `bg` (both opaque) with at least `min` contrast: itself when it has it, else
 * moved toward `toward` in tenths until it has (`toward` itself must have it).
 */
function readableOn(color: Rgba, bg: Rgba, min: number, toward: Rgba): Rgba {
  if (contrast(color, bg) >= min) return color;
  for (let t = 0.1; t < 1; t += 0.1) {
    const c = mix(color, toward, t);
    if (contrast(c, bg) >= min) return c;
  }
  return toward;
}

/** Black or white, whichever stands out more on `bg` (at least 4.58:1 on any colour). */
function extreme(bg: Rgba): Rgba {
  return contrast(BLACK, bg) >= contrast(WHITE, bg) ? BLACK : WHITE;
}

function styleFor(theme: Theme, base: Rgba, state: RowState): RowStyle {
  const parse = (css: string): Rgba | null => (css === '' ? null : parseRgba(css));
  const solid = (css: string, bg: Rgba): Rgba => rounded(over(parse(css) ?? GREY, bg));
  const fillCss =
    state === 'selected'
      ? theme.selection
      : state === 'hover'
        ? theme.hover
        : state === 'match'
          ? theme.match
          : '';
  const fillRgba = parse(fillCss);
  const bg = fillRgba !== null ? rounded(over(fillRgba, base)) : base;

  const preferred =
    state === 'selected'
      ? theme.selectionForeground
      : state === 'hover'
        ? theme.hoverForeground
        : theme.foreground;
  // The state's own foreground, else the plain one, else the editor's; black or white last.
  const candidates = [preferred, theme.foreground, theme.editorForeground].map((c) => solid(c, bg));
  const text =
    candidates.find((c) => contrast(c, bg) >= TEXT_CONTRAST) ??
    readableOn(candidates[0] as Rgba, bg, TEXT_CONTRAST, extreme(bg));
  // A selected row's secondary text follows the selection foreground, as VS Code's lists do.
  const muted =
    state === 'selected' ? text : readableOn(solid(theme.muted, bg), bg, TEXT_CONTRAST, text);
  const graphic = (css: string): Rgba => readableOn(solid(css, bg), bg, GRAPHIC_CONTRAST, text);
  const error = graphic(theme.error);
  const errorInk = contrast(bg, error) >= GRAPHIC_CONTRAST ? bg : extreme(error);

  let outline: RowStyle['outline'] = null;
  if (state === 'selected' && (theme.highContrast || fillRgba === null)) {
    outline = { color: cssOf(graphic(theme.focus)), dashed: false };
  } else if (state === 'match' && theme.matchBorder !== '') {
    outline = { color: cssOf(graphic(theme.matchBorder)), dashed: true };
  } else if (state === 'match' && fillRgba === null) {
    outline = { color: cssOf(graphic(theme.focus)), dashed: true };
  }

  return {
    // The theme's own fill, translucent or not: grid lines show through as they should.
    fill: fillRgba !== null ? fillCss : null,
    outline,
    text: cssOf(text),
    muted: cssOf(muted),
    error: cssOf(error),
    errorInk: cssOf(errorInk),
    critical: cssOf(graphic(theme.critical)),
    gap: cssOf(graphic(theme.gap)),
    logs: [cssOf(muted), cssOf(graphic(theme.info)), cssOf(graphic(theme.warning)), cssOf(error)],
    bars: theme.palette.map((c) => cssOf(graphic(c))),
  };
}

const cache = new WeakMap<Theme, RowStyles>();

/** The row styles of `theme` (computed on first use, then kept as long as the theme object). */
export function rowStyles(theme: Theme): RowStyles {
  let s = cache.get(theme);
  if (s === undefined) {
    const base = rounded(over(parseRgba(theme.background) ?? BLACK, BLACK));
    s = {
      normal: styleFor(theme, base, 'normal'),
      selected: styleFor(theme, base, 'selected'),
      hover: styleFor(theme, base, 'hover'),
      match: styleFor(theme, base, 'match'),
    };
    cache.set(theme, s);
  }
  return s;
}

/** The index into `RowStyle.logs` of a severity number (OTLP: 9-12 INFO, 13-16 WARN, 17+ ERROR). */
export function logMarkColor(severityNumber: number): 0 | 1 | 2 | 3 {
  if (severityNumber >= 17) return 3;
  if (severityNumber >= 13) return 2;
  if (severityNumber >= 9) return 1;
  return 0;
}
