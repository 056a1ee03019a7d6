/**
 * How numbers read, everywhere: the core's finding titles, the editor's lenses, views and
 * hovers, and the webview. One module so that a duration or a share prints the same in every
 * place it shows (the webview bundle imports it too: no Node or `vscode` imports here).
 */

/**
 * A duration for people: three significant figures, unit chosen by size
 * (`850 µs`, `4.20 ms`, `12.3 ms`, `1.21 s`, `2m 05s`); negative durations keep their sign.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === 0) return '0 ms';
  if (ms < 0.001) return `${Math.round(ms * 1e6)} ns`;
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 9.995) return `${s.toFixed(2)} s`;
  if (s < 59.5) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
}

/** A percentage (0-100) without false precision: `96%`, `0.4%`, `<0.1%`. */
export function formatPercent(pct: number): string {
  if (!Number.isFinite(pct)) return '–';
  if (pct < 0) return `-${formatPercent(-pct)}`;
  if (pct === 0) return '0%';
  if (pct < 0.1) return '<0.1%';
  if (pct < 1) return `${pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}

/** A fraction (0-1) as a percentage, as {@link formatPercent}. */
export function formatShare(share: number): string {
  return formatPercent(share * 100);
}

/** A signed change as a percentage of what it was: `+12%`, `-4%`, `±0%` (under half a percent). */
export function formatChange(change: number): string {
  if (!Number.isFinite(change)) return '–';
  const pct = change * 100;
  if (Math.abs(pct) < 0.5) return '±0%';
  return `${pct > 0 ? '+' : '-'}${formatPercent(Math.abs(pct))}`;
}

/** A signed duration: `+1.20 s`, `-35.0 ms`. */
export function formatDelta(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return `${ms >= 0 ? '+' : '-'}${formatDuration(Math.abs(ms))}`;
}

/** A rate per second without false precision: `53`, `8.4`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '–';
  return perSecond >= 10 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}

/**
 * A count and its noun, in agreement: `1 trace`, `0 traces`, `1,204 spans`. The one place a
 * count meets a noun, so that no text says "1 traces". `many` is for nouns that do not just take
 * an "s" (`match`/`matches`).
 */
export function formatCount(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${nounFor(n, one, many)}`;
}

/** The noun alone, for a count that is spelled apart: `2 slow and 1 failed traces`. */
export function nounFor(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}
