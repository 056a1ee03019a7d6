/**
 * The demo's scenarios. Each incident is produced by the mechanism it has in a real pipeline:
 * more reranking work, a queue consumer slower than the arrival rate, a CPU-throttled replica,
 * requests that overflow the decoder's context window, models loaded on the first request, a
 * new model version that costs more.
 */
import type { ThrottleConfig } from './protocol.js';

export const SCENARIO_NAMES = [
  'normal',
  'slow-reranker',
  'queue-backlog',
  'degraded-replica',
  'errors',
  'cold-start',
  'model-rollout',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  readonly name: ScenarioName;
  /** Its name in pickers ("Slow reranker"). */
  readonly label: string;
  /** One line for pickers and `--help`. */
  readonly description: string;
  /** Documents retrieved and scored by the cross-encoder per request. */
  readonly rerankCandidates: number;
  /** Retrieval: IVF probe (fast) or exhaustive multi-query scan (slow consumer). */
  readonly retrievalMode: 'ivf' | 'exhaustive';
  readonly retrievalExpansions: number;
  /** Throttling of one generation replica (index into the pool). */
  readonly throttledReplica?: { readonly index: number; readonly throttle: ThrottleConfig };
  /** Fraction of requests asking for an answer longer than the decoder's context window allows. */
  readonly overflowFraction: number;
  /** Load models on the first request instead of at start. */
  readonly lazyLoad: boolean;
  /** The reranker's model version (1.1 scores each pair three times). */
  readonly rerankerVersion: string;
  /** Load shape used unless the user gives one. */
  readonly defaults: {
    readonly requests: number;
    readonly concurrency: number;
    readonly rps?: number;
  };
}

const base = {
  rerankCandidates: 8,
  retrievalMode: 'ivf',
  retrievalExpansions: 1,
  overflowFraction: 0,
  lazyLoad: false,
  rerankerVersion: '1.0',
  defaults: { requests: 20, concurrency: 2 },
} as const;

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  normal: { ...base, name: 'normal', label: 'Normal', description: 'a healthy pipeline' },
  'slow-reranker': {
    ...base,
    name: 'slow-reranker',
    label: 'Slow reranker',
    description: 'the reranker scores 5x as many candidates: reranking several times slower',
    rerankCandidates: 40,
  },
  'queue-backlog': {
    ...base,
    name: 'queue-backlog',
    label: 'Queue backlog',
    description: 'retrieval consumers slower than the arrival rate: requests wait in the queue',
    retrievalMode: 'exhaustive',
    retrievalExpansions: 160,
    defaults: { requests: 20, concurrency: 8 },
  },
  'degraded-replica': {
    ...base,
    name: 'degraded-replica',
    label: 'Degraded replica',
    description: 'one of three generation replicas is CPU-throttled: slow, ~30% timeouts',
    throttledReplica: {
      index: 1,
      throttle: { slowdown: 2.5, stallProbability: 0.3, stallSlowdown: 40 },
    },
    defaults: { requests: 30, concurrency: 2 },
  },
  errors: {
    ...base,
    name: 'errors',
    label: 'Errors',
    description: 'some requests overflow the decoder context: generation fails with an exception',
    overflowFraction: 0.3,
  },
  'cold-start': {
    ...base,
    name: 'cold-start',
    label: 'Cold start',
    description: 'models are loaded on the first request',
    lazyLoad: true,
    defaults: { requests: 10, concurrency: 1 },
  },
  'model-rollout': {
    ...base,
    name: 'model-rollout',
    label: 'Model rollout',
    description:
      'reranker v1.1 rolls out (three passes per pair): reranking slower, model.version moved',
    rerankerVersion: '1.1',
  },
};

export function isScenarioName(s: string): s is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(s);
}
