/**
 * Reading the waterfall webview as a user (and a screen reader) does. The rows are drawn on a
 * canvas, so the span list is read through the accessible tree: arrow keys move the selection
 * and the tree's `aria-label` names the selected span ("name, service, duration").
 */
import type { Frame, Page } from 'playwright-core';
import { webviewFrame } from './workbench.js';

/** Height of one waterfall row in CSS px (`ROW_HEIGHT` in webview/src/render/draw.ts). */
export const ROW_HEIGHT = 22;

/** One row as the accessible tree announces it. */
export interface AnnouncedRow {
  name: string;
  service: string;
  duration: string;
  /** "3 log lines" when the span wrote some, else ''. */
  logs: string;
}

/** The waterfall's content frame, once it shows a trace whose root is `rootName`. */
export async function waterfallWithTrace(
  page: Page,
  rootName: string,
  timeoutMs = 90_000,
): Promise<Frame> {
  const frame = await webviewFrame(page, '.app', timeoutMs);
  await frame
    .locator('.summary .summary-name', { hasText: rootName })
    .waitFor({ state: 'visible', timeout: timeoutMs });
  return frame;
}

function parseAnnouncement(label: string): AnnouncedRow | undefined {
  const parts = label.split(', ');
  // "name, service, duration" and, for a span that wrote log lines, ", 3 log lines".
  const logs = /^[\d,]+ log lines?$/.test(parts[parts.length - 1] ?? '')
    ? (parts.pop() as string)
    : '';
  if (parts.length < 3) return undefined;
  const duration = parts.pop() as string;
  const service = parts.pop() as string;
  return { name: parts.join(', '), service, duration, logs };
}

/**
 * Walks the visible rows from the top with the keyboard (Home, then Down until the selection
 * stops moving) and returns them in display order.
 */
export async function readRows(frame: Frame, max = 200): Promise<AnnouncedRow[]> {
  const tree = frame.locator('[role="tree"]');
  await tree.focus();
  await tree.press('Home');
  const rows: AnnouncedRow[] = [];
  let last = '';
  for (let i = 0; i < max; i++) {
    const label = (await tree.getAttribute('aria-label')) ?? '';
    if (i > 0 && label === last) break;
    const row = parseAnnouncement(label);
    if (row) rows.push(row);
    last = label;
    await tree.press('ArrowDown');
  }
  await tree.press('Home');
  return rows;
}

/** Clicks the `index`-th visible row (0 = top) in its name column, as a user clicks a span. */
export async function clickRow(frame: Frame, index: number): Promise<void> {
  const tree = frame.locator('[role="tree"]');
  await tree.evaluate((el) => (el.scrollTop = 0));
  const box = await tree.boundingBox();
  if (!box) throw new Error('the waterfall tree is not visible');
  await tree.click({
    position: { x: Math.min(160, box.width / 3), y: (index + 0.5) * ROW_HEIGHT },
  });
}

/** Parses "502.4 ms", "1.21 s", "950 µs" to milliseconds. */
export function parseDurationMs(text: string): number {
  const m = /([\d.,]+)\s*(µs|us|ms|s|min|m)\b/.exec(text);
  if (!m) throw new Error(`no duration in "${text}"`);
  const v = Number((m[1] as string).replace(/,/g, ''));
  const unit = m[2] as string;
  const factor =
    unit === 's' ? 1000 : unit === 'ms' ? 1 : unit === 'min' || unit === 'm' ? 60_000 : 0.001;
  return v * factor;
}
