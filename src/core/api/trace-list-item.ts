/**
 * How the Traces view names a trace, as text: the view only adapts this to a tree item, so what
 * a partial trace (its root span not received yet) reads as is tested here in plain Node.
 */

import { formatCount } from '../../shared/format.js';
import { formatDuration } from '../source/lens-text.js';
import type { TraceSummary } from '../store/trace-store.js';
import { PULLED_LABEL } from '../backend/origin.js';

export interface TraceListItemText {
  /** The root span's name; for a partial trace, that it is partial and its earliest span. */
  label: string;
  /** Service, duration, spans and errors. */
  description: string;
  /** The tooltip's first line (plain text; the view escapes it). */
  title: string;
  /** True while the root span has not arrived. */
  partial: boolean;
}

export function traceListItemText(t: TraceSummary): TraceListItemText {
  const errors = t.hasError ? ` · ${formatCount(t.errorCount, 'error')}` : '';
  const prod = t.source === undefined ? '' : `${PULLED_LABEL} · `;
  const description = `${prod}${t.rootService} · ${formatDuration(t.durationMs)} · ${formatCount(t.spanCount, 'span')}${errors}`;
  const from = t.source === undefined ? '' : `, pulled from ${t.source}`;
  if (t.hasRoot) {
    return {
      label: t.rootName,
      description,
      title: `${t.rootName} (${t.rootService})${from}`,
      partial: false,
    };
  }
  // The earliest span of a trace still arriving is one of its stages (its parent ends, and is
  // exported, last): named alone it would read as a trace of that stage.
  const earliest = t.rootName === '' ? '' : `, from ${t.rootName}`;
  return {
    label: `partial trace${earliest}`,
    description,
    title: `Partial trace: its root span has not been received yet${earliest}`,
    partial: true,
  };
}
