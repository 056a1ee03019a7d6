/**
 * The receiver's memory budget: one number of bytes that bounds everything it holds, and the
 * estimates each part is counted with. The store evicts to stay within what the other parts
 * leave of the budget; the analysis and the forwarder's memory queue are capped at a share of it
 * so that they cannot crowd the spans out.
 *
 * Parts, as `/api/health` reports them (`memory`):
 * - `spans`: raw bytes plus a per-record overhead (`store/trace-store.ts`, SPAN_RECORD_BYTES).
 * - `indexes`: per trace and per index entry (TRACE_ENTRY_BYTES, INDEX_ENTRY_BYTES, dedup sets).
 * - `analysis`: what the analysis service says it holds (`bytesHeld`: facts of the recent traces
 *   and the few full analyses cached), plus each trace's statistics ticket, which lives on its
 *   store entry: {@link STATS_TICKET_BYTES_PER_STAGE} per (trace, span name).
 * - `stats`: the per-stage statistics window, estimated from stages x buckets
 *   ({@link STATS_BYTES_PER_STAGE_BUCKET}).
 * - `forward`: batches waiting in the forwarder's memory queue (none with `--data`: the span
 *   log holds them on disk).
 * - `logs`, `metrics`: the received log records and metric points, their encodings and decoded
 *   values (`otlp/logs-request-decoder.ts`, `otlp/metrics-request-decoder.ts`), capped together
 *   at a quarter of the budget (`signals.ts`).
 *
 * These are estimates of live bytes; the process's RSS is larger by a fixed part (code, the
 * runtime, buffers of the servers) and by the garbage the collector has not reclaimed yet.
 */

export const MIB = 1024 * 1024;
/** The default budget: 512 MiB. */
export const DEFAULT_MAX_MEMORY_BYTES = 512 * MIB;
/** The smallest budget accepted: below it a single large batch would not fit. */
export const MIN_MAX_MEMORY_BYTES = 16 * MIB;

/**
 * A trace's statistics ticket (the stages it counted, their shares: `StatsTicket`), measured
 * at about 1,160 bytes for a trace of 8 stages: a `Map` and two arrays per trace.
 */
export const STATS_TICKET_BYTES_PER_STAGE = 145;
/**
 * A stage's cells in one bucket of the statistics window: a DDSketch (a few hundred bins at 1%
 * accuracy), the counters and the map entries. An upper bound: most sketches are smaller.
 */
export const STATS_BYTES_PER_STAGE_BUCKET = 2048;
/** The analysis' facts may hold at most this share of the budget; the oldest go first. */
export const ANALYSIS_SHARE = 0.25;
/** The forwarder's memory queue defaults to at most this share of the budget (64 MiB at most). */
export const FORWARD_MEMORY_SHARE = 0.25;

/** What the receiver holds, in bytes, against its budget. */
export interface MemoryUsage {
  spans: number;
  indexes: number;
  analysis: number;
  stats: number;
  forward: number;
  /** Log records and metric points (`signals.ts`), at most `SIGNALS_SHARE` of the budget. */
  logs: number;
  metrics: number;
  total: number;
  budget: number;
}
