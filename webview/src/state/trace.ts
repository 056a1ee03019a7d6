/**
 * Which trace is shown: traces the host pushes (opened, or grown by an update), the one held
 * behind the banner while the user inspects a span, following live, the recent-traces list,
 * the host's insights, and `cleared`.
 */

import type {
  HostNotification,
  TraceNotification,
  TracePayload,
} from '../../../src/protocol/messages.js';
import { clampWindow, fullWindow } from '../model/layout.js';
import {
  buildTraceModel,
  nameOf,
  normalizePayload,
  serviceOf,
  type TraceModel,
} from '../model/trace-model.js';
import { COMPARE_OFF } from './compare.js';
import { applyFilter } from './filter.js';
import { deselect, select } from './selection.js';
import { DETAILS_PROMPT, withEffect, type ViewState } from './view-state.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

export function onHostNotification(s: ViewState, m: HostNotification): ViewState {
  switch (m.type) {
    case 'trace':
      return onTrace(s, m);
    case 'traceList':
      return { ...s, traces: m.traces };
    case 'follow':
      // The host's word on following; unlike the user's, it leaves a held trace held.
      return { ...s, follow: m.follow };
    case 'insights':
      return { ...s, insights: m };
    case 'receiver':
      return { ...s, receiver: m.endpoints };
    case 'metricsStrip':
      // Drawn by its own module (`ui/metrics-strip.ts`), which listens to the host itself.
      return s;
    case 'cleared':
      return {
        ...s,
        model: null,
        notice: null,
        pending: null,
        traces: [],
        insights: 'cleared',
        compare: COMPARE_OFF,
        selected: -1,
        details: { kind: 'empty', text: DETAILS_PROMPT },
      };
  }
}

function onTrace(s: ViewState, raw: TraceNotification): ViewState {
  const trace = normalizePayload(raw.trace);
  if (trace === null) return { ...s, notice: 'The trace could not be shown: malformed data.' };
  const m: TraceNotification = { ...raw, trace };
  const current = s.model?.payload;
  const sameTrace = current !== undefined && current.traceId === trace.traceId;
  // Following live, a new trace would yank the view away from a span being inspected: hold it
  // until the user is done (Escape, or the banner's button). A trace the user asked for (a
  // trace link, the picker, a CodeLens click) always shows.
  const asked = m.requested === true || m.selectRow !== undefined;
  if (!sameTrace && !asked && s.selected >= 0 && current !== undefined) {
    return { ...s, pending: m };
  }
  return load({ ...s, pending: null }, trace, sameTrace && m.reason === 'update', m.selectRow);
}

/** Identity of a row across versions of a trace (the payload has no span ids). */
function rowKey(m: TraceModel, r: number): string {
  return `${nameOf(m, r)}\u0000${serviceOf(m, r)}\u0000${m.payload.start[r]}`;
}

/**
 * Shows `payload`. `keepView` (the shown trace grew): collapsed rows and the selection carry
 * over by identity, since rows shift when spans arrive mid-tree, and the window keeps its place
 * (or grows with the trace when it showed all of it). Otherwise the view starts afresh.
 */
function load(
  s: ViewState,
  payload: TracePayload,
  keepView: boolean,
  selectRow?: number,
): ViewState {
  const old = s.model;
  const model = buildTraceModel(payload);
  let next: ViewState = { ...s, model, notice: null };
  if (keepView && old !== null) {
    const wanted = new Map<string, 1 | 2>();
    for (let r = 0; r < old.rowCount; r++) if (s.collapsed[r] === 1) wanted.set(rowKey(old, r), 1);
    if (s.selected >= 0 && s.selected < old.rowCount) wanted.set(rowKey(old, s.selected), 2);
    const collapsed = new Uint8Array(model.rowCount);
    let selected = -1;
    if (wanted.size > 0) {
      for (let r = 0; r < model.rowCount; r++) {
        const w = wanted.get(rowKey(model, r));
        if (w === 1) collapsed[r] = 1;
        else if (w === 2) selected = r;
      }
    }
    const wasFull = s.window.start <= 0 && s.window.end >= old.payload.durationMs - 1e-9;
    const window = wasFull
      ? fullWindow(payload.durationMs)
      : clampWindow(s.window, payload.durationMs);
    next = { ...next, collapsed, selected, window };
  } else {
    next = withEffect(
      {
        ...next,
        collapsed: new Uint8Array(model.rowCount),
        selected: -1,
        window: fullWindow(payload.durationMs),
        details: { kind: 'empty', text: DETAILS_PROMPT },
      },
      { type: 'scroll', to: 'top' },
    );
  }
  next = applyFilter(next, false);
  if (selectRow !== undefined && selectRow >= 0 && selectRow < model.rowCount) {
    next = select(next, selectRow, { scroll: true, details: true, zoom: true });
  }
  return next;
}

/** "Show latest": the held trace, shown afresh. */
export function showPending(s: ViewState): ViewState {
  const p = s.pending;
  if (p === null) return s;
  return load({ ...s, pending: null }, p.trace, false, p.selectRow);
}

/** Done inspecting: no selection, and a trace held meanwhile shows when following. */
export function clearSelection(s: ViewState): ViewState {
  const next = deselect(s);
  return next.pending !== null && next.follow ? showPending(next) : next;
}

/** The user turned following on or off; off also forgets a held trace. */
export function setFollow(s: ViewState, follow: boolean): ViewState {
  const next = withEffect(
    { ...s, follow },
    { type: 'post', command: { type: 'setFollow', follow } },
  );
  return follow ? next : { ...next, pending: null };
}

/** Asks the host to open a trace (the picker, a link in the details or the insights). */
export function openTrace(s: ViewState, traceId: string): ViewState {
  if (!TRACE_ID.test(traceId)) return s;
  return withEffect(s, { type: 'post', command: { type: 'selectTrace', traceId } });
}
