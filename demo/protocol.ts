/**
 * Messages between the gateway and its worker processes (over Node's IPC channel). Every request
 * carries W3C trace context in `headers`, as a Kafka or Ray message would, so the worker's spans
 * join the request's trace and the time a message waits before it is picked up is visible.
 */
import type { ModelKind } from './models/transformer.js';
import type { MessageHeaders } from './telemetry/tracing.js';

/** Where a model runs. */
export type Device = 'cpu' | 'cuda' | 'webgpu';
/** What the user asks for; `auto` tries cuda, then webgpu, then cpu. */
export type DeviceRequest = Device | 'auto';

/** Why a device was not used. */
export interface DeviceAttempt {
  readonly device: Device;
  readonly reason: string;
}

/** Configuration of a model runner process (passed as JSON in argv[2]). */
export interface RunnerConfig {
  readonly model: ModelKind;
  readonly replica: string;
  readonly device: DeviceRequest;
  readonly modelScale: number;
  readonly cacheDir: string;
  readonly endpoint: string;
  readonly tracing: boolean;
  /** Load the model on the first request instead of at start (the cold-start scenario). */
  readonly lazyLoad: boolean;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  /** CPU throttling of this replica (the degraded-replica scenario). */
  readonly throttle?: ThrottleConfig;
  readonly seed: number;
  /** This process's clock is this many ms off (to show the clock-skew adjustment at work). */
  readonly clockOffsetMs?: number;
}

/**
 * A throttled replica gets a share of the CPU like a container over its CPU quota: after each
 * model step it is paused for `(slowdown - 1)` times the step's duration; with probability
 * `stallProbability` a request hits a longer stall (`stallSlowdown`).
 */
export interface ThrottleConfig {
  readonly slowdown: number;
  readonly stallProbability: number;
  readonly stallSlowdown: number;
}

export interface RetrievalConfig {
  readonly endpoint: string;
  readonly tracing: boolean;
  readonly dim: number;
  readonly docs: number;
  /** IVF lists probed per query (normal) or every document scanned for each expanded query. */
  readonly mode: 'ivf' | 'exhaustive';
  /** Expanded queries per request in exhaustive mode. */
  readonly expansions: number;
  readonly seed: number;
  /** This process's clock is this many ms off. */
  readonly clockOffsetMs?: number;
}

export interface EncodeRequest {
  readonly type: 'infer';
  readonly model: 'encoder';
  readonly tokens: number[];
}
export interface RerankRequest {
  readonly type: 'infer';
  readonly model: 'cross-encoder';
  readonly query: number[];
  readonly docs: number[][];
}
export interface GenerateRequest {
  readonly type: 'infer';
  readonly model: 'decoder';
  readonly prompt: number[];
  readonly maxNewTokens: number;
}
export type InferRequest = EncodeRequest | RerankRequest | GenerateRequest;

export interface SearchRequest {
  readonly type: 'search';
  readonly vector: number[];
  readonly topK: number;
}

/**
 * Changes a running worker's behaviour (the demo runs a normal warm-up before an incident in
 * the same processes). Applied in order with the requests around it: IPC keeps message order.
 */
export interface ConfigureMessage {
  readonly type: 'configure';
  /** Retrieval workers: how the index is searched. */
  readonly retrieval?: { readonly mode: RetrievalConfig['mode']; readonly expansions: number };
  /** Model runners: throttling, or null for none. */
  readonly throttle?: ThrottleConfig | null;
  /**
   * Model runners: the model version served. Version 1.1 of the cross-encoder scores each pair
   * with three forward passes (test-time augmentation): better ranking, three times the work.
   */
  readonly modelVersion?: string;
}

/** gateway -> worker */
export type ToWorker =
  | ((InferRequest | SearchRequest) & {
      readonly id: number;
      readonly headers: MessageHeaders;
      /** Epoch ms after which the worker gives up (deadline propagation). */
      readonly deadline: number;
    })
  | ConfigureMessage
  | { readonly type: 'shutdown' };

export interface ReadyMessage {
  readonly type: 'ready';
  readonly device?: Device;
  readonly attempts?: DeviceAttempt[];
  /** A warm-up request's latency, when the model was loaded at start. */
  readonly warmupMs?: number;
}

export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly code?: 'DEADLINE_EXCEEDED' | 'INTERNAL';
  readonly device?: Device;
  /** The model version that answered. */
  readonly modelVersion?: string;
  readonly batchSize?: number;
  readonly embedding?: number[];
  readonly scores?: number[];
  readonly tokens?: number[];
  readonly docIds?: number[];
}

/** worker -> gateway */
export type FromWorker =
  ReadyMessage | ResultMessage | { readonly type: 'fatal'; readonly error: string };
