/**
 * The aggregate critical path as an icicle: one box per stage by where it is called from, as
 * wide as its share of the mean critical path across the latest traces (`core/analysis/
 * path-tree.ts` computes it; the host sends it with the insights). A click opens the trace
 * where that stage took the most critical-path time. Names are untrusted: set as text only.
 *
 * Laid out with percentages through the CSSOM (allowed under the webview's CSP, unlike style
 * attributes), so it reflows with the side panel's width at no cost.
 */

import type { PathTreePayload } from '../../../src/protocol/messages.js';
import { formatDuration, formatShare } from '../model/layout.js';
import { el } from './dom.js';
import { formatCount } from '../../../src/shared/format.js';

/** Levels drawn (the operation, then four levels of stages). */
const MAX_DEPTH = 5;
/** Narrower boxes are drawn without a label (the tooltip still names them). */
const LABEL_MIN_SHARE = 0.08;
/** Service colours: the theme's chart colours, picked by a hash of the service name. */
const CHART_COLORS = ['blue', 'purple', 'green', 'orange', 'yellow', 'red'];

function colorOf(service: string): string {
  let h = 0;
  for (let i = 0; i < service.length; i++) h = (h * 31 + service.charCodeAt(i)) >>> 0;
  return `var(--vscode-charts-${CHART_COLORS[h % CHART_COLORS.length]})`;
}

export function pathIcicle(
  tree: PathTreePayload,
  openTrace: (traceId: string) => void,
): HTMLElement | null {
  if (tree.nodes.length === 0 || !(tree.meanMs > 0)) return null;
  const box = el('div', 'path-icicle');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', 'Where the critical path goes, by stage');
  // Left edge and width of each node as fractions of the whole; children start at their
  // parent's left edge and follow each other in the order given (largest first).
  const left = new Float64Array(tree.nodes.length);
  const next = new Float64Array(tree.nodes.length);
  let rootNext = 0;
  let depthShown = 0;
  tree.nodes.forEach((n, i) => {
    const share = n.ms / tree.meanMs;
    const at = n.parent < 0 ? rootNext : next[n.parent]!;
    left[i] = at;
    next[i] = at;
    if (n.parent < 0) rootNext += share;
    else next[n.parent] = at + share;
    if (n.depth >= MAX_DEPTH) return;
    depthShown = Math.max(depthShown, n.depth + 1);
    const b = el('button', 'icicle-node');
    b.type = 'button';
    b.style.left = `${(at * 100).toFixed(3)}%`;
    b.style.width = `${(Math.min(share, 1 - at) * 100).toFixed(3)}%`;
    b.style.top = `calc(${n.depth} * var(--icicle-row))`;
    b.style.borderLeftColor = colorOf(n.service);
    const what =
      `${n.service} / ${n.name}: ${formatDuration(n.ms)} of the critical path per request ` +
      `(${formatShare(share)}), ${formatDuration(n.selfMs)} of it its own; in ${n.traces} of ` +
      `${formatCount(tree.traces, 'trace')}. Opens the slowest (${formatDuration(n.slowestMs)} here).`;
    b.title = what;
    b.setAttribute('aria-label', what);
    b.dataset.stage = n.name;
    b.dataset.traceId = n.slowestTraceId;
    if (share >= LABEL_MIN_SHARE) {
      b.append(
        el('span', 'icicle-name', n.name),
        el('span', 'icicle-ms', ` ${formatDuration(n.ms)}`),
      );
    }
    b.addEventListener('click', () => openTrace(n.slowestTraceId));
    box.append(b);
  });
  box.style.height = `calc(${depthShown} * var(--icicle-row))`;
  return el(
    'div',
    'path-icicle-wrap',
    el(
      'h3',
      'insights-heading',
      `Where the critical path goes (${formatCount(tree.traces, 'trace')}, ` +
        `mean critical path ${formatDuration(tree.meanMs)})`,
    ),
    box,
  );
}
