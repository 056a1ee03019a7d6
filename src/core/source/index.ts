/** Span -> source line matching: span-start calls per language, code locations, lens text. */

export { languageOf, lex, type LexResult, type SourceLanguage, type StringToken } from './lexer.js';
export {
  findSpanStarts,
  scanDocument,
  type DocumentScan,
  type SpanStartSite,
} from './span-starts.js';
export {
  CodeLocationIndex,
  normalizePath,
  pathsMatch,
  type CodeLocation,
  type CodeLocationIndexOptions,
} from './code-locations.js';
export {
  indexStagesByName,
  matchStageLines,
  pickStage,
  type MatchInput,
  type StageLine,
  type StagesByName,
} from './stage-match.js';
export {
  DEFAULT_LENS_STATISTICS,
  formatDuration,
  formatPercent,
  histogram,
  histogramText,
  lensText,
  lensTooltip,
  LENS_STATISTICS,
  parseLensStatistics,
  type HistogramBin,
  type LensStatistic,
  type LensTextOptions,
  type LensTooltipOptions,
} from './lens-text.js';
export {
  collectStageSamples,
  endToEndP95,
  slowestStageSpan,
  type StageSample,
  type StageSamples,
} from './stage-samples.js';
