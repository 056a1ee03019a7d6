/** Pure analyses over one trace's spans, and stage statistics across traces. */

export { analyzeTrace, type TraceAnalysis } from './analyze-trace.js';
export {
  computeCriticalPath,
  type CriticalPath,
  type CriticalPathSegment,
} from './critical-path.js';
export {
  findQueueWaits,
  type AttributeGetter,
  type AttributeValue,
  type QueueWait,
} from './queue-waits.js';
export { selfTimes } from './self-time.js';
export {
  parseStageKey,
  stageKey,
  StageStatsWindow,
  type StageContribution,
  type StageKey,
  type StageStats,
  type StageStatsOptions,
} from './stage-stats.js';
export {
  buildTraceTree,
  missingParents,
  type MissingParent,
  type TraceTree,
} from './trace-tree.js';
