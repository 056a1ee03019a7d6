/**
 * Colour arithmetic for a readable canvas: parsing the CSS colours VS Code hands a webview,
 * compositing translucent ones over what they are drawn on, and WCAG 2.x contrast. Pure, so the
 * browser tests measure drawn pixels with the same formulas the renderer decides by.
 *
 * WCAG 2.x asks 4.5:1 for text and 3:1 for the graphics that carry meaning (bars, marks,
 * outlines) against what is next to them.
 */

/** Red, green, blue (0-255) and alpha (0-1). */
export type Rgba = readonly [number, number, number, number];

/** Minimum contrast of text against its background (WCAG 2.x, 1.4.3). */
export const TEXT_CONTRAST = 4.5;
/** Minimum contrast of meaningful graphics against what is next to them (WCAG 2.x, 1.4.11). */
export const GRAPHIC_CONTRAST = 3;

/**
 * `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb()` or `rgba()` (comma or space separated, alpha
 * as a number or a percentage), `transparent`; null for anything else (a named colour, `''`).
 */
export function parseRgba(css: string): Rgba | null {
  const c = css.trim().toLowerCase();
  if (c === 'transparent') return [0, 0, 0, 0];
  const hex = /^#([0-9a-f]{3,8})$/.exec(c);
  if (hex !== null) {
    const h = hex[1] as string;
    if (h.length === 3 || h.length === 4) {
      const v = [...h].map((d) => parseInt(d + d, 16));
      return [
        v[0] as number,
        v[1] as number,
        v[2] as number,
        h.length === 4 ? (v[3] as number) / 255 : 1,
      ];
    }
    if (h.length === 6 || h.length === 8) {
      const v = [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16));
      return [
        v[0] as number,
        v[1] as number,
        v[2] as number,
        h.length === 8 ? (v[3] as number) / 255 : 1,
      ];
    }
    return null;
  }
  const fn =
    /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$/.exec(c);
  if (fn === null) return null;
  const alpha = fn[4] === undefined ? 1 : Number(fn[4]) / (fn[5] === '%' ? 100 : 1);
  return [Number(fn[1]), Number(fn[2]), Number(fn[3]), Math.min(1, Math.max(0, alpha))];
}

/** `top` drawn over the opaque `bottom` (source-over), opaque. */
export function over(top: Rgba, bottom: Rgba): Rgba {
  const a = top[3];
  return [
    top[0] * a + bottom[0] * (1 - a),
    top[1] * a + bottom[1] * (1 - a),
    top[2] * a + bottom[2] * (1 - a),
    1,
  ];
}

/** WCAG 2.x relative luminance of an opaque colour. */
export function luminance(c: Rgba): number {
  const channel = (v: number): number => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
}

/** WCAG 2.x contrast ratio of two opaque colours, 1 to 21. */
export function contrast(a: Rgba, b: Rgba): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** `rgb(r g b)` or `rgb(r g b / a)`, for the canvas. */
export function cssOf(c: Rgba): string {
  const [r, g, b] = [c[0], c[1], c[2]].map((v) => Math.round(v));
  return c[3] >= 1 ? `rgb(${r} ${g} ${b})` : `rgb(${r} ${g} ${b} / ${+c[3].toFixed(3)})`;
}
