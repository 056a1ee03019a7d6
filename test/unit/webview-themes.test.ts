/**
 * The waterfall in each built-in theme kind (Light+, Dark+, High Contrast, High Contrast Light),
 * in headless Chromium through the harness page: the page gets the variables VS Code's own
 * default themes give a webview (test/unit/fixtures/vscode-theme-colors.json, read from
 * code-server) and the body classes VS Code sets, then the drawn pixels of the rows are read
 * back and held to WCAG 2.x contrast: 4.5:1 for text on its row, 3:1 for bars, marks and the
 * selection outline against the row background. Every drawn state is looked at: selected,
 * hovered, on the critical path, failed, a search match, dimmed (off the critical path), and a
 * selected failed span.
 *
 * The measured figures are printed (one line per theme and row) so that a change of palette
 * shows its effect. Text colour is the glyph pixel farthest in contrast from the row background,
 * at a device pixel ratio of 2 so that glyph stems reach their full colour. Saves
 * docs/images/waterfall-{light,dark,high-contrast,high-contrast-light}.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs } from '../../scripts/lib/browser.js';
import { startHarnessServer, type HarnessServer } from '../../webview/dev/harness-server.js';
import { SpanFlag, type TracePayload } from '../../src/protocol/messages.js';
import { fullWindow, ticks, xOf } from '../../webview/src/model/layout.js';
import {
  contrast,
  GRAPHIC_CONTRAST,
  TEXT_CONTRAST,
  type Rgba,
} from '../../webview/src/render/contrast.js';
import {
  BAR_HEIGHT,
  durationLabel,
  labelX,
  nameX,
  ROW_HEIGHT,
} from '../../webview/src/render/row-layout.js';
import { treeWidthIn } from '../../webview/src/state/timeline.js';
import { initialViewState } from '../../webview/src/state/view-state.js';

const CHROMIUM = '/usr/bin/chromium';
const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
const DPR = 2;
const VIEWPORT = { width: 1400, height: 1500 };

interface ThemeFixture {
  name: string;
  kind: string;
  bodyClass: string;
  variables: Record<string, string>;
}
const FIXTURE = path.join(__dirname, 'fixtures', 'vscode-theme-colors.json');
const THEMES = (
  JSON.parse(readFileSync(FIXTURE, 'utf8')) as { themes: Record<string, ThemeFixture> }
).themes;

interface Win {
  stagelightHarness: { drawMs: number[]; current: TracePayload | null };
  stagelightProbe: Probe;
}

/** In-page helpers (PROBE below), typed for the test's side. */
interface Probe {
  /** Sets the theme as VS Code does; resolves after the next painted frame. */
  applyTheme(t: ThemeFixture): Promise<void>;
  /** Resolves after two animation frames (a frame asked for now has been drawn). */
  frames(): Promise<void>;
  /** RGBA bytes of device rows `y` to `y + h` of the rows canvas. */
  readRows(y: number, h: number): number[];
  /** Width in CSS px of `s` in the rows canvas's font. */
  textWidth(s: string): number;
}

// Written as page script: the test's TypeScript has no DOM types.
const PROBE = `
window.__name = (f) => f;
window.stagelightProbe = {
  applyTheme(t) {
    const painted = new Promise((r) => window.addEventListener('stagelight:painted', r, { once: true }));
    // The harness's stand-in colours go: only what VS Code gives stays.
    document.querySelector('link[href="/harness-theme.css"]')?.remove();
    const root = document.documentElement.style;
    for (let i = root.length - 1; i >= 0; i--) {
      const n = root.item(i);
      if (n.startsWith('--vscode-')) root.removeProperty(n);
    }
    for (const [k, v] of Object.entries(t.variables)) root.setProperty(k, v);
    document.body.className = t.bodyClass;
    document.body.dataset.vscodeThemeKind = t.kind;
    return painted.then(() => undefined);
  },
  frames() {
    return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
  },
  readRows(y, h) {
    const c = document.querySelector('canvas.rows');
    return Array.from(c.getContext('2d').getImageData(0, y, c.width, h).data);
  },
  textWidth(s) {
    const font = document.querySelector('canvas.rows').getContext('2d').font;
    const g = document.createElement('canvas').getContext('2d');
    g.font = font;
    return g.measureText(s).width;
  },
};
`;

/** What the renderer drew for one row, as contrast ratios. */
interface RowFigures {
  state: string;
  name: number;
  service: number;
  label: number;
  bar: number;
  errorMark?: number;
  /** The selection outline against the rows around it (high-contrast themes draw no fill). */
  outline?: number;
}

/** A device-pixel rectangle of the rows canvas, read back. */
interface Pixels {
  x: number;
  y: number;
  w: number;
  h: number;
  data: number[];
}

function at(p: Pixels, x: number, y: number): Rgba {
  const o = ((y - p.y) * p.w + (x - p.x)) * 4;
  return [p.data[o] as number, p.data[o + 1] as number, p.data[o + 2] as number, 1];
}

describe(
  'waterfall contrast in the built-in theme kinds',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install -y chromium)` },
  () => {
    let server: HarnessServer;
    let browser: Browser;
    const report: string[] = [];

    before(async () => {
      server = await startHarnessServer({ bundle: 'build' });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...chromiumArgs, '--headless=new'],
      });
    });

    after(async () => {
      if (report.length > 0) console.log(report.join('\n'));
      await browser?.close();
      await server?.close();
    });

    const readRows = async (page: Page, y: number, h: number): Promise<Pixels> => {
      const data = await page.evaluate(
        ([y, h]) => (globalThis as unknown as Win).stagelightProbe.readRows(y, h),
        [y, h] as const,
      );
      return { x: 0, y, w: data.length / 4 / h, h, data };
    };

    for (const [id, theme] of Object.entries(THEMES)) {
      it(`keeps every row state readable in ${theme.name} (${theme.kind})`, async () => {
        const context = await browser.newContext({
          viewport: VIEWPORT,
          deviceScaleFactor: DPR,
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.addInitScript(PROBE);
        try {
          await page.goto(`${server.url}?spans=60`);
          await page.waitForFunction(
            () => (globalThis as unknown as Win).stagelightHarness?.drawMs.length > 0,
          );
          await page.evaluate(
            (t) => (globalThis as unknown as Win).stagelightProbe.applyTheme(t),
            theme,
          );
          const trace = await page.evaluate(() => {
            const t = (globalThis as unknown as Win).stagelightHarness.current as TracePayload;
            return {
              n: t.spanCount,
              durationMs: t.durationMs,
              depth: [...t.depth],
              start: [...t.start],
              duration: [...t.duration],
              criticalMs: [...t.criticalMs],
              flags: [...t.flags],
              name: [...t.name].map((i) => t.names[i] as string),
              service: [...t.service].map((i) => t.services[i] as string),
            };
          });
          const box = await page.locator('.scroller').boundingBox();
          assert.ok(box);
          const width = await page.locator('.scroller').evaluate((e) => e.clientWidth);
          const height = await page.locator('.scroller').evaluate((e) => e.clientHeight);
          const tx = treeWidthIn(initialViewState(), width);
          const tw = Math.max(1, width - tx - 8);
          const window = fullWindow(trace.durationMs);
          const gridX = ticks(window, tw).times.map((t) => Math.round(xOf(t, window, tx, tw)));
          const rowsOnScreen = Math.floor(height / ROW_HEIGHT);
          assert.ok(rowsOnScreen >= trace.n, 'every row is on screen (rows = visible indices)');

          // The rows to look at: leaves wholly on the critical path with the widest bars, the
          // widest bar off it, the failed span. None of them the queue consumer (its wait is
          // drawn beside its bar) or the root (its bar spans the timeline).
          const isLeaf = (r: number): boolean =>
            r + 1 >= trace.n || (trace.depth[r + 1] as number) <= (trace.depth[r] as number);
          const candidates = [...Array(trace.n).keys()].filter(
            (r) => r > 0 && isLeaf(r) && trace.name[r] !== 'rerank-worker',
          );
          const byWidth = (rows: number[]): number[] =>
            rows.sort((a, b) => (trace.duration[b] as number) - (trace.duration[a] as number));
          const error = candidates.find((r) => ((trace.flags[r] as number) & SpanFlag.ERROR) !== 0);
          assert.ok(error !== undefined, 'the trace has a failed span');
          const critical = byWidth(
            candidates.filter(
              (r) =>
                r !== error &&
                ((trace.flags[r] as number) & SpanFlag.CRITICAL) !== 0 &&
                (trace.criticalMs[r] as number) >= 0.999 * (trace.duration[r] as number),
            ),
          );
          const dimmed = byWidth(
            candidates.filter((r) => ((trace.flags[r] as number) & SpanFlag.CRITICAL) === 0),
          )[0];
          const [selected, onPath, hovered] = critical;
          assert.ok(selected !== undefined && onPath !== undefined && hovered !== undefined);
          assert.ok(dimmed !== undefined);

          const textWidth = (text: string): Promise<number> =>
            page.evaluate(
              (text) => (globalThis as unknown as Win).stagelightProbe.textWidth(text),
              text,
            );

          const measure = async (row: number, state: string): Promise<RowFigures> => {
            const y = row * ROW_HEIGHT;
            const mid = y + ROW_HEIGHT / 2;
            // One row plus a pixel each side, for the selection outline's neighbours.
            const px = await readRows(page, Math.max(0, (y - 1) * DPR), (ROW_HEIGHT + 2) * DPR);
            const dev = (v: number): number => Math.round(v * DPR);
            const bg = at(px, dev(tx - 7), dev(y + 2));
            /** The strongest contrast to `bg` in a CSS-px box: the glyphs' full colour. */
            const text = (x0: number, x1: number): number => {
              let best = 1;
              for (let yy = dev(mid - 5); yy < dev(mid + 5); yy++) {
                for (let xx = dev(x0); xx < dev(x1); xx++) {
                  if (gridX.some((g) => Math.abs(xx / DPR - g) <= 1.5)) continue;
                  best = Math.max(best, contrast(at(px, xx, yy), bg));
                }
              }
              return best;
            };
            const nx = nameX(trace.depth[row] as number);
            const nameW = await textWidth(trace.name[row] as string);
            const serviceX = nx + nameW + 6;
            const serviceW = await textWidth(trace.service[row] as string);
            const s = trace.start[row] as number;
            const e = s + (trace.duration[row] as number);
            const x0 = xOf(s, window, tx, tw);
            const x1 = xOf(e, window, tx, tw);
            assert.ok(x1 - x0 >= 8, `row ${row}'s bar is wide enough to sample`);
            const labelW = await textWidth(
              durationLabel(
                trace.duration[row] as number,
                (trace.criticalMs[row] as number) / trace.durationMs,
              ),
            );
            const lx = labelX(x0, x1, labelW, tx, width);
            // The bar's weakest point along its top edge (the outline, where it has one).
            let bar = 21;
            const edgeY = dev(mid - BAR_HEIGHT / 2 + 0.5);
            for (let xx = dev(x0 + 2); xx < dev(x1 - 2); xx++) {
              bar = Math.min(bar, contrast(at(px, xx, edgeY), bg));
            }
            const figures: RowFigures = {
              state,
              name: text(nx, nx + Math.min(nameW, 80)),
              service: text(serviceX, Math.min(serviceX + serviceW, tx - 26)),
              label: text(lx, Math.min(lx + labelW, width)),
              bar,
            };
            if (((trace.flags[row] as number) & SpanFlag.ERROR) !== 0) {
              // The mark left of the column divider: a disc in the error colour.
              figures.errorMark = contrast(at(px, dev(tx - 17.5), dev(mid)), bg);
            }
            if (state.startsWith('selected') && theme.kind.includes('high-contrast')) {
              // Without a strong fill, the outline is what says "selected".
              const above = at(px, dev(width / 2), dev(y - 1));
              figures.outline = contrast(at(px, dev(width / 2), dev(y)), above);
            }
            return figures;
          };

          const clickRow = async (row: number): Promise<void> => {
            await page.mouse.click(box.x + 150, box.y + row * ROW_HEIGHT + ROW_HEIGHT / 2);
          };
          await clickRow(selected);
          await page.mouse.move(box.x + 150, box.y + hovered * ROW_HEIGHT + ROW_HEIGHT / 2);
          await page.evaluate(() => (globalThis as unknown as Win).stagelightProbe.frames());
          const figures: RowFigures[] = [
            await measure(selected, 'selected'),
            await measure(hovered, 'hovered'),
            await measure(onPath, 'critical path'),
            await measure(error, 'error'),
            await measure(dimmed, 'dimmed'),
          ];
          await clickRow(error);
          await page.mouse.move(box.x + box.width - 4, box.y + 4);
          await page.evaluate(() => (globalThis as unknown as Win).stagelightProbe.frames());
          figures.push(await measure(error, 'selected error'));
          // Highlight mode keeps every row in place and marks the matches.
          await page.locator('.toolbar vscode-dropdown').first().click();
          await page.locator('vscode-option', { hasText: 'Highlight' }).click();
          const field = page.locator('vscode-text-field.search input');
          await field.fill(`name:${trace.name[onPath]}`);
          await page
            .locator('.match-count')
            .filter({ hasText: /\d+ match/ })
            .waitFor();
          await page.mouse.move(box.x + box.width - 4, box.y + 4);
          await page.evaluate(() => (globalThis as unknown as Win).stagelightProbe.frames());
          figures.push(await measure(onPath, 'search match'));

          const failures: string[] = [];
          for (const f of figures) {
            const fmt = (k: string, v: number | undefined): string =>
              v === undefined ? '' : ` ${k} ${v.toFixed(2)}`;
            report.push(
              `${id.padEnd(20)} ${f.state.padEnd(15)}${fmt('name', f.name)}${fmt('service', f.service)}${fmt('label', f.label)}${fmt('bar', f.bar)}${fmt('error mark', f.errorMark)}${fmt('outline', f.outline)}`,
            );
            for (const [k, min] of [
              ['name', TEXT_CONTRAST],
              ['service', TEXT_CONTRAST],
              ['label', TEXT_CONTRAST],
              ['bar', GRAPHIC_CONTRAST],
              ['errorMark', GRAPHIC_CONTRAST],
              ['outline', GRAPHIC_CONTRAST],
            ] as const) {
              const v = f[k];
              if (v !== undefined && v < min) {
                failures.push(`${f.state}: ${k} ${v.toFixed(2)}:1 < ${min}:1`);
              }
            }
          }
          assert.deepEqual(failures, [], `${theme.name}: ${failures.join('; ')}`);
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      });

      it(`saves docs/images/waterfall-${id}.png`, async () => {
        // As docs/images/waterfall.png (webview-browser.test.ts): the failed reranking selected.
        const context = await browser.newContext({ viewport: { width: 1400, height: 820 } });
        const page = await context.newPage();
        try {
          await page.addInitScript(PROBE);
          await page.goto(`${server.url}?spans=60`);
          await page.waitForFunction(
            () => (globalThis as unknown as Win).stagelightHarness?.drawMs.length > 0,
          );
          await page.evaluate(
            (t) => (globalThis as unknown as Win).stagelightProbe.applyTheme(t),
            theme,
          );
          await page.locator('.scroller').focus();
          await page.keyboard.press('e');
          await page.locator('.details .status-error').waitFor();
          // The key scrolls by a third of a screen, which can leave half a row under the axis: whole
          // rows from the top (the end of the scroll range need not be a whole row).
          await page
            .locator('.scroller')
            .evaluate((e, row) => (e.scrollTop = Math.floor(e.scrollTop / row) * row), ROW_HEIGHT);
          await page.evaluate(() => (globalThis as unknown as Win).stagelightProbe.frames());
          mkdirSync(IMAGES, { recursive: true });
          await page.screenshot({ path: path.join(IMAGES, `waterfall-${id}.png`) });
        } finally {
          await context.close();
        }
      });
    }
  },
);
