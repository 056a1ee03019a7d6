/**
 * The assistant tools' view of a receiver: its read API over HTTP (`src/core/api/read-api.ts`),
 * whether the receiver runs in this process (the editor's, or the one `stagelight mcp` embeds)
 * or elsewhere (`stagelight mcp --api URL`). Going through the API in both cases means one
 * computation of every number, the one the read API serves, and one code path to test.
 */

import type { InsightsReport } from '../analysis/insights/types.js';
import type { Explanation } from '../analysis/insights/explain.js';
import type { Comparison } from '../analysis/compare.js';
import type { StageStats } from '../analysis/stage-stats.js';
import type { TraceSummary } from '../store/trace-store.js';
import type { DigestSource, TraceDigest } from './trace-digest.js';

/** A read API request that failed: no receiver, a refusal, or an answer that is not JSON. */
export class ReadApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the receiver answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface TraceQuery {
  service?: string;
  name?: string;
  minDurationMs?: number;
  error?: boolean;
  /** `key` or `key=value` (see the read API). */
  attribute?: string;
  limit?: number;
  sort?: 'arrival' | 'start';
}

export type CompareQuery =
  { a: string; b: string } | { trace?: string; against: 'typical' | 'baseline' };

/** What the assistant tools read; `ReadApiClient` is the one implementation. */
export interface AssistantSource {
  insights(): Promise<InsightsReport>;
  stats(): Promise<StageStats[]>;
  traces(q: TraceQuery): Promise<TraceSummary[]>;
  explain(traceId: string): Promise<Explanation | undefined>;
  digest(traceId: string, top?: number): Promise<TraceDigest>;
  compare(q: CompareQuery): Promise<Comparison>;
  sources(): Promise<DigestSource[]>;
}

export interface ReadApiClientOptions {
  /** The read API's base URL, e.g. `http://127.0.0.1:4318/api`. */
  readonly url: string;
  /** The access token, when the receiver requires one. */
  readonly token?: string;
  /** Per request (default 30 s): a fresh insights report may take a few seconds. */
  readonly timeoutMs?: number;
}

/** Largest answer read (the trace lists and tables the tools ask for are far smaller). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export class ReadApiClient implements AssistantSource {
  private readonly base: string;

  constructor(private readonly opts: ReadApiClientOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new ReadApiError(`the read API URL is not a URL: "${opts.url.slice(0, 200)}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ReadApiError(`the read API URL must be http(s), got "${opts.url}"`);
    }
    this.base = u.href.replace(/\/+$/, '');
  }

  private async get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {},
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new ReadApiError(`no Stagelight receiver answers at ${this.base} (${cause})`);
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES) {
      throw new ReadApiError(`the answer to ${url.pathname} is larger than expected`, res.status);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ReadApiError(
        `${url.pathname} did not answer JSON (HTTP ${res.status})`,
        res.status,
      );
    }
    if (!res.ok) {
      const message = (body as { message?: unknown }).message;
      throw new ReadApiError(
        typeof message === 'string' ? message : `HTTP ${res.status} from ${url.pathname}`,
        res.status,
      );
    }
    return body as T;
  }

  insights(): Promise<InsightsReport> {
    return this.get('/insights');
  }

  async stats(): Promise<StageStats[]> {
    return (await this.get<{ stages: StageStats[] }>('/stats')).stages;
  }

  async traces(q: TraceQuery): Promise<TraceSummary[]> {
    const query = {
      service: q.service,
      name: q.name,
      minDurationMs: q.minDurationMs?.toString(),
      error: q.error?.toString(),
      attribute: q.attribute,
      limit: q.limit?.toString(),
      sort: q.sort,
    };
    return (await this.get<{ traces: TraceSummary[] }>('/traces', query)).traces;
  }

  async explain(traceId: string): Promise<Explanation | undefined> {
    const e = await this.get<Partial<Explanation>>(
      `/traces/${encodeURIComponent(traceId)}/explain`,
    );
    return e.rows === undefined ? undefined : (e as Explanation);
  }

  digest(traceId: string, top?: number): Promise<TraceDigest> {
    return this.get(`/traces/${encodeURIComponent(traceId)}/digest`, { top: top?.toString() });
  }

  compare(q: CompareQuery): Promise<Comparison> {
    return this.get(
      '/compare',
      'a' in q ? { a: q.a, b: q.b } : { trace: q.trace, against: q.against },
    );
  }

  async sources(): Promise<DigestSource[]> {
    return (await this.get<{ sources: DigestSource[] }>('/sources')).sources;
  }
}
