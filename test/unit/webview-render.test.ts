/**
 * The renderer's colour decisions without a browser: WCAG contrast arithmetic
 * (webview/src/render/contrast.ts), which variable each canvas colour is read from
 * (render/theme-colors.ts, on the variables of VS Code's default themes), and the row styles'
 * invariant (render/row-style.ts): every colour readable on its row, for the real themes and for
 * a sweep of made-up ones. The drawn pixels are checked in webview-themes.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  contrast,
  cssOf,
  GRAPHIC_CONTRAST,
  luminance,
  over,
  parseRgba,
  TEXT_CONTRAST,
  type Rgba,
} from '../../webview/src/render/contrast.js';
import { durationLabel, labelX, nameX, twistyX } from '../../webview/src/render/row-layout.js';
import { rowStyles, type RowState } from '../../webview/src/render/row-style.js';
import {
  themeFromVariables,
  themeKindOf,
  type Theme,
} from '../../webview/src/render/theme-colors.js';

interface ThemeFixture {
  name: string;
  bodyClass: string;
  variables: Record<string, string>;
}
const THEMES = (
  JSON.parse(
    readFileSync(path.join(__dirname, 'fixtures', 'vscode-theme-colors.json'), 'utf8'),
  ) as { themes: Record<string, ThemeFixture> }
).themes;

function themeOf(t: ThemeFixture): Theme {
  const classes = t.bodyClass.split(' ');
  return themeFromVariables(
    (name, fallback) => t.variables[name] ?? fallback,
    themeKindOf({ contains: (c) => classes.includes(c) }),
  );
}

const rgba = (css: string): Rgba => {
  const c = parseRgba(css);
  assert.ok(c !== null, `unreadable colour ${css}`);
  return c;
};

/** Every pair `rowStyles(theme)` draws that is below its WCAG minimum, named. */
function shortfalls(theme: Theme): string[] {
  const styles = rowStyles(theme);
  const base = over(rgba(theme.background), [0, 0, 0, 1]);
  const out: string[] = [];
  for (const state of ['normal', 'selected', 'hover', 'match'] as RowState[]) {
    const s = styles[state];
    // The canvas stores the composite in whole channels.
    const bg: Rgba =
      s.fill !== null
        ? (over(rgba(s.fill), base).map((v) => Math.round(v)) as unknown as Rgba)
        : base;
    const check = (what: string, css: string, min: number, on = bg): void => {
      const c = rgba(css);
      assert.equal(c[3], 1, `${state} ${what} is opaque`);
      const r = contrast(c, on);
      if (r < min) out.push(`${state} ${what} ${r.toFixed(2)}`);
    };
    check('text', s.text, TEXT_CONTRAST);
    check('muted', s.muted, TEXT_CONTRAST);
    check('error', s.error, GRAPHIC_CONTRAST);
    check('error ink', s.errorInk, GRAPHIC_CONTRAST, rgba(s.error));
    check('critical', s.critical, GRAPHIC_CONTRAST);
    check('gap', s.gap, GRAPHIC_CONTRAST);
    s.bars.forEach((b, i) => check(`bar ${i}`, b, GRAPHIC_CONTRAST));
    s.logs.forEach((c, i) => check(`log mark ${i}`, c, GRAPHIC_CONTRAST));
    if (s.outline !== null) check('outline', s.outline.color, GRAPHIC_CONTRAST);
  }
  return out;
}

describe('contrast arithmetic', () => {
  it('parses the colour forms VS Code hands a webview', () => {
    assert.deepEqual(parseRgba('#abc'), [170, 187, 204, 1]);
    assert.deepEqual(parseRgba('#0000'), [0, 0, 0, 0]);
    assert.deepEqual(parseRgba('#FFFFFF'), [255, 255, 255, 1]);
    assert.deepEqual(parseRgba('#ea5c0080')?.slice(0, 3), [234, 92, 0]);
    assert.ok(Math.abs((parseRgba('#ea5c0080')?.[3] ?? 0) - 128 / 255) < 1e-9);
    assert.deepEqual(parseRgba('rgba(15, 74, 133, 0.1)'), [15, 74, 133, 0.1]);
    assert.deepEqual(parseRgba('rgb(1 2 3 / 50%)'), [1, 2, 3, 0.5]);
    assert.deepEqual(parseRgba(' rgb(10,20,30) '), [10, 20, 30, 1]);
    assert.deepEqual(parseRgba('transparent'), [0, 0, 0, 0]);
    assert.equal(parseRgba('red'), null);
    assert.equal(parseRgba(''), null);
    assert.equal(parseRgba('#12345'), null);
    assert.deepEqual(parseRgba(cssOf([1.2, 2.6, 3, 0.25])), [1, 3, 3, 0.25]);
  });

  it('composites and measures as WCAG 2.x does', () => {
    const white: Rgba = [255, 255, 255, 1];
    const black: Rgba = [0, 0, 0, 1];
    assert.equal(contrast(white, black), 21);
    assert.equal(contrast(black, white), 21);
    assert.equal(contrast(white, white), 1);
    assert.equal(luminance(white), 1);
    // The figures WCAG's own examples give: #767676 is the lightest grey for text on white.
    assert.ok(contrast(rgba('#767676'), white) >= 4.5);
    assert.ok(contrast(rgba('#777777'), white) < 4.5);
    // High Contrast Light's selection: 10% of #0f4a85 over white, and white text on it.
    const selection = over(rgba('rgba(15, 74, 133, 0.1)'), white);
    assert.deepEqual(
      selection.map((v) => Math.round(v)),
      [231, 237, 243, 1],
    );
    assert.ok(contrast(white, selection) < 1.25, 'white on that tint is unreadable');
  });
});

describe('theme colours', () => {
  it('reads the foreground that goes with each background', () => {
    const hcLight = themeOf(THEMES['high-contrast-light'] as ThemeFixture);
    assert.equal(hcLight.kind, 'high-contrast-light');
    assert.equal(hcLight.selection, 'rgba(15, 74, 133, 0.1)');
    // The theme leaves list.activeSelectionForeground unset: VS Code then uses `foreground`.
    assert.equal(hcLight.selectionForeground, '#292929');
    assert.equal(hcLight.match, '', 'no find-match fill in high contrast');
    assert.equal(hcLight.matchBorder, '#006bbd');

    const hc = themeOf(THEMES['high-contrast'] as ThemeFixture);
    assert.equal(hc.kind, 'high-contrast');
    assert.equal(hc.selection, '', 'no selection fill in High Contrast: the outline marks it');
    assert.equal(hc.selectionForeground, '#ffffff');
    assert.equal(hc.focus, '#f38518');

    const light = themeOf(THEMES.light as ThemeFixture);
    assert.equal(light.kind, 'light');
    assert.equal(light.selection, '#0060c0');
    assert.equal(light.selectionForeground, '#ffffff');
    assert.equal(themeOf(THEMES.dark as ThemeFixture).kind, 'dark');
    assert.equal(
      themeKindOf({ contains: () => false }),
      'dark',
      'no class: dark, as the fallbacks',
    );
  });

  it('keeps every row state of the default themes readable', () => {
    for (const [id, t] of Object.entries(THEMES)) {
      assert.deepEqual(shortfalls(themeOf(t)), [], id);
    }
    // High Contrast Light's selected row is drawn in its foreground on the tint, outlined.
    const s = rowStyles(themeOf(THEMES['high-contrast-light'] as ThemeFixture)).selected;
    assert.equal(s.text, 'rgb(41 41 41)');
    assert.deepEqual(s.outline, { color: 'rgb(0 107 189)', dashed: false });
  });

  it('corrects any theme that pairs colours too close', () => {
    // Every pairing of a background with one colour used for everything else, the selection and
    // match fills translucent and opaque: the styles must still pass.
    const colours = [
      '#000000',
      '#ffffff',
      '#808080',
      '#1e1e1e',
      '#f3f3f3',
      '#0060c0',
      '#e51400',
      '#bf8803',
      '#388a34',
      '#6fc3df',
    ];
    let themes = 0;
    for (const background of colours) {
      for (const c of colours) {
        for (const alpha of ['1a', '80', '']) {
          const theme: Theme = {
            kind: 'dark',
            background,
            foreground: c,
            editorForeground: c,
            muted: `${c}b3`,
            border: c,
            selection: `${c}${alpha}`,
            selectionForeground: c,
            hover: `${c}${alpha}`,
            hoverForeground: c,
            match: `${c}${alpha}`,
            matchBorder: alpha === '' ? c : '',
            error: c,
            critical: c,
            focus: c,
            gap: c,
            warning: c,
            info: c,
            palette: [c, background],
            font: 'sans-serif',
            fontSize: 13,
            highContrast: alpha === '',
          };
          assert.deepEqual(shortfalls(theme), [], `${background} with ${c}${alpha}`);
          themes++;
        }
      }
    }
    assert.equal(themes, 300);
  });
});

describe('row layout', () => {
  it('places names, labels and their texts', () => {
    assert.equal(twistyX(0), 6);
    assert.equal(nameX(2), twistyX(2) + 20);
    assert.equal(twistyX(100), twistyX(24), 'indentation stops growing');
    assert.equal(durationLabel(48.1, 0.06), '48.1 ms · 6% of path');
    assert.equal(durationLabel(0.575, 0.001), '575 µs');
    // Right of the bar when it fits, else left of it, else against the right edge.
    assert.equal(labelX(400, 500, 50, 320, 1000), 504);
    assert.equal(labelX(400, 980, 50, 320, 1000), 346);
    assert.equal(labelX(330, 990, 50, 320, 1000), 946);
  });
});
