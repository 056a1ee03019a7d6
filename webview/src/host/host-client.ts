/**
 * The webview's end of the protocol (`src/protocol/messages.ts`), after GitLens's webview IPC:
 * commands go out and are forgotten, a request returns a promise of its typed response, and
 * notifications go to whoever subscribed. This is the only place that numbers requests and
 * matches answers to them; nothing else sees a `requestId`.
 *
 * A request may name a `channel`. A newer request on the same channel supersedes the older one:
 * the older promise rejects with {@link RequestCancelled} at once, and its answer, should it
 * still arrive, is dropped (the details of a span selected before the current one). Without a
 * channel a request waits for its answer however long the host takes, as before.
 */

import type {
  HostMessage,
  HostNotification,
  HostResponse,
  WebviewCommand,
  WebviewMessage,
  WebviewRequest,
  WebviewRequestResponses,
} from '../../../src/protocol/messages.js';

export type RequestType = WebviewRequest['type'];

/** What a caller gives for a request: the message without its `type` and `requestId`. */
export type RequestParams<K extends RequestType> = Omit<
  Extract<WebviewRequest, { type: K }>,
  'type' | 'requestId'
>;

/** The response type that answers each request type; checked on every answer. */
const RESPONSE_TYPE = {
  spanDetails: 'spanDetailsResponse',
  attributeSearch: 'attributeSearchResponse',
  compare: 'compareResponse',
} as const satisfies { [K in RequestType]: WebviewRequestResponses[K]['type'] };

const RESPONSE_TYPES: ReadonlySet<string> = new Set(Object.values(RESPONSE_TYPE));

function isResponse(m: HostMessage): m is HostResponse {
  return RESPONSE_TYPES.has(m.type);
}

/** The rejection of a request that a newer one on its channel replaced, or that was cancelled. */
export class RequestCancelled extends Error {
  constructor(readonly request: RequestType) {
    super(`${request} request superseded`);
    this.name = 'RequestCancelled';
  }
}

interface Pending {
  request: RequestType;
  responseType: HostResponse['type'];
  channel: string | undefined;
  resolve(response: HostResponse): void;
  reject(reason: RequestCancelled): void;
}

/** Request ids stay in [1, 2^30]: the host accepts ids below 2^31 (`isWebviewMessage`). */
const MAX_REQUEST_ID = 2 ** 30;

export class HostClient {
  private lastId = 0;
  /** Invariant: holds exactly the requests whose promise has not settled. */
  private readonly pending = new Map<number, Pending>();
  /** Channel -> the id of its one live request. */
  private readonly channels = new Map<string, number>();
  private readonly listeners = new Set<(n: HostNotification) => void>();

  constructor(private readonly post: (message: WebviewMessage) => void) {}

  /** Sends a command; the host does not answer commands. */
  command(command: WebviewCommand): void {
    this.post(command);
  }

  /** Sends a request; resolves with the host's answer to it. */
  request<K extends RequestType>(
    type: K,
    params: RequestParams<K>,
    options: { channel?: string } = {},
  ): Promise<WebviewRequestResponses[K]> {
    const channel = options.channel;
    if (channel !== undefined) this.cancel(channel);
    this.lastId = (this.lastId % MAX_REQUEST_ID) + 1;
    const requestId = this.lastId;
    const answer = new Promise<WebviewRequestResponses[K]>((resolve, reject) => {
      this.pending.set(requestId, {
        request: type,
        responseType: RESPONSE_TYPE[type],
        channel,
        // The response type was checked against RESPONSE_TYPE[type] before this is called.
        resolve: (r) => resolve(r as WebviewRequestResponses[K]),
        reject,
      });
    });
    if (channel !== undefined) this.channels.set(channel, requestId);
    // Sound for every K: the request of type K less `type` and `requestId`, plus both. TypeScript
    // does not narrow the spread of a generic Omit, hence the cast.
    this.post({ ...params, type, requestId } as unknown as WebviewRequest);
    return answer;
  }

  /** Cancels the live request on `channel`, if any: its promise rejects, its answer is dropped. */
  cancel(channel: string): void {
    const id = this.channels.get(channel);
    if (id === undefined) return;
    this.channels.delete(channel);
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.reject(new RequestCancelled(p.request));
  }

  /** Subscribes to notifications; returns the unsubscribe function. */
  onNotification(listener: (n: HostNotification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes one message from the host (already checked with `isHostMessage`). An answer settles
   * its request; an answer to no live request, or of the wrong type, is dropped.
   */
  receive(m: HostMessage): void {
    if (!isResponse(m)) {
      for (const listener of [...this.listeners]) listener(m);
      return;
    }
    const p = this.pending.get(m.requestId);
    if (p === undefined || p.responseType !== m.type) return;
    this.pending.delete(m.requestId);
    if (p.channel !== undefined && this.channels.get(p.channel) === m.requestId) {
      this.channels.delete(p.channel);
    }
    p.resolve(m);
  }

  /** Requests still waiting for an answer (for tests and diagnostics). */
  get inFlight(): number {
    return this.pending.size;
  }
}
