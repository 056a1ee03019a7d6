/**
 * The line the Traces view shows above its list (`TreeView.message`), or none. VS Code hides
 * the view's welcome content while a message is set, so a message replaces the welcome exactly
 * where the welcome would be wrong:
 *
 * - a filter matches nothing while traces are held: not "Waiting for traces", but what the
 *   filter left out;
 * - nothing is held and the receiver listens on other ports than the ones the welcome text
 *   names (`WELCOME_PORTS`, package.json `viewsWelcome`): the ports actually bound.
 *
 * Otherwise none, and the welcome ("not running", "waiting for traces") shows when the list is
 * empty.
 */
import { formatCount } from '../../shared/format.js';
import { endpointsText, type ReceiverEndpoints } from '../../shared/receiver-text.js';

/** The ports the Traces view's "waiting" welcome text names (a unit test checks package.json). */
export const WELCOME_PORTS = { grpc: 4317, http: 4318 } as const;

export interface TracesViewFacts {
  /** The receiver's endpoints while it runs. */
  readonly endpoints: ReceiverEndpoints | undefined;
  /** Traces the store holds. */
  readonly held: number;
  /** Traces the view lists (after the filter). */
  readonly shown: number;
  /** The filter as typed; empty for none. */
  readonly filterText: string;
}

export function tracesViewMessage(f: TracesViewFacts): string | undefined {
  if (f.endpoints === undefined) return undefined;
  if (f.held > 0) {
    return f.shown === 0 && f.filterText !== ''
      ? `No trace matches "${f.filterText}" (${formatCount(f.held, 'trace')} held).`
      : undefined;
  }
  if (
    portOf(f.endpoints.grpc) === WELCOME_PORTS.grpc &&
    portOf(f.endpoints.http) === WELCOME_PORTS.http
  ) {
    return undefined;
  }
  return (
    `Waiting for traces. The receiver listens on ${endpointsText(f.endpoints)} ` +
    `(the usual ports were taken or configured otherwise); Copy OTLP Endpoint is in the view's menu.`
  );
}

function portOf(url: string): number | undefined {
  try {
    const p = new URL(url).port;
    return p === '' ? undefined : Number(p);
  } catch {
    return undefined;
  }
}
