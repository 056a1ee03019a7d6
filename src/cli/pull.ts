/**
 * `stagelight pull`: finds traces in a team backend (Jaeger's query API v3) and brings them
 * into a running Stagelight receiver, marked with where they came from, so that its statistics,
 * insights and comparisons show production beside local runs. The receiver is asked first, so a
 * missing receiver is said before the backend is queried; each trace is posted to its
 * /v1/traces as OTLP/JSON, through the same limits as any exporter's.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_HTTP_PORT, LOOPBACK } from '../core/server.js';
import {
  BackendError,
  DEFAULT_LIMIT,
  JaegerClient,
  parseBackendUrl,
} from '../core/backend/jaeger-client.js';
import {
  parseDurationMs,
  pullTrace,
  pullTraces,
  type PullReport,
  type PullSink,
} from '../core/backend/pull.js';
import { formatCount } from '../shared/format.js';

export const PULL_HELP = `pull options (stagelight pull --jaeger <url> --service <name> [options]):
  --jaeger <url>            the Jaeger query service, e.g. http://jaeger:16686
                            (default $STAGELIGHT_BACKEND_URL)
  --service <name>          service whose traces to find
  --operation <name>        only traces with a span of this name
  --min-duration <d>        only traces with a span at least this long: 500ms, 2s, 1m
  --since <d>               how far back to search (default 1h): 30m, 6h, 2d
  --limit <n>               most traces to bring (default ${DEFAULT_LIMIT}, at most 1000)
  --trace <id>              bring this one trace (32 hex digits) instead of searching
  --token <token>           sent to the backend as "Authorization: Bearer <token>"
                            (default $STAGELIGHT_BACKEND_TOKEN)
  --timeout <d>             longest wait for the backend (default 15s)
  --api <url>               the Stagelight receiver to pull into (default
                            http://${LOOPBACK}:${DEFAULT_HTTP_PORT}); its token: $STAGELIGHT_TOKEN`;

export class PullUsageError extends Error {}

/** What cannot be done and why, said in one line (the receiver or the backend). */
export class PullError extends Error {}

function durationOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDurationMs(value, `--${name}`);
  } catch (e) {
    throw new PullUsageError((e as Error).message);
  }
}

/** Posts each trace to the receiver's /v1/traces; the receiver's refusal is the trace's error. */
function receiverSink(api: string, token: string | undefined): PullSink {
  return async (trace) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(`${api}/v1/traces`, {
        method: 'POST',
        headers,
        body: trace.body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new Error(`the receiver at ${api} did not take it: ${(e as Error).message}`);
    }
    const text = await res.text();
    let doc: { partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string } } = {};
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      // an error page: its text is the message
    }
    if (!res.ok) {
      const message = (doc as { message?: string }).message ?? text.slice(0, 200);
      throw new Error(`the receiver refused it (${res.status}): ${message}`);
    }
    const rejected = Number(doc.partialSuccess?.rejectedSpans ?? 0);
    return {
      accepted: trace.spanCount - rejected,
      rejected,
      errorMessage: doc.partialSuccess?.errorMessage ?? '',
    };
  };
}

/** Whether a Stagelight receiver answers at `api` (its read API's health). */
async function checkReceiver(api: string, token: string | undefined): Promise<void> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${api}/api/health`, { headers, signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
  } catch {
    throw new PullError(
      `no Stagelight receiver at ${api}: start one (stagelight serve, or Start Receiver in VS Code) or pass --api`,
    );
  }
  if (res.status === 401) {
    throw new PullError(`the receiver at ${api} needs its access token: set STAGELIGHT_TOKEN`);
  }
  if (!res.ok) throw new PullError(`${api} is not a Stagelight receiver (health: ${res.status})`);
}

/** The report as the terminal shows it. */
export function formatPullReport(r: PullReport, into: string): string {
  const lines: string[] = [];
  if (r.traces.length === 0 && r.failed.length === 0) {
    return `No traces found in ${r.source} for this search.`;
  }
  lines.push(
    `Pulled ${formatCount(r.traces.length, 'trace')} (${formatCount(r.acceptedSpans, 'span')}) ` +
      `from ${r.source} into ${into}` +
      (r.rejectedSpans > 0 ? `; ${formatCount(r.rejectedSpans, 'span')} refused` : ''),
  );
  for (const t of r.traces) {
    lines.push(`  trace_id=${t.traceId}  ${formatCount(t.spans, 'span')}`);
  }
  for (const f of r.failed) lines.push(`  trace_id=${f.traceId}  not stored: ${f.message}`);
  return lines.join('\n');
}

/** Runs `stagelight pull`; returns the exit code. Usage errors throw PullUsageError. */
export async function pullCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      jaeger: { type: 'string' },
      service: { type: 'string' },
      operation: { type: 'string' },
      'min-duration': { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      trace: { type: 'string' },
      token: { type: 'string' },
      timeout: { type: 'string' },
      api: { type: 'string' },
    },
  });
  const url = values.jaeger ?? process.env.STAGELIGHT_BACKEND_URL;
  if (url === undefined || url === '') {
    throw new PullUsageError('--jaeger <url> is needed (or set STAGELIGHT_BACKEND_URL)');
  }
  try {
    parseBackendUrl(url);
  } catch (e) {
    throw new PullUsageError(`--jaeger: ${(e as Error).message}`);
  }
  if (values.trace === undefined && (values.service === undefined || values.service === '')) {
    throw new PullUsageError('--service <name> is needed (or --trace <id> for one trace)');
  }
  if (values.trace !== undefined && !/^[0-9a-fA-F]{32}$/.test(values.trace)) {
    throw new PullUsageError(`--trace must be 32 hex digits, got "${values.trace.slice(0, 80)}"`);
  }
  const sinceMs = durationOption(values.since, 'since') ?? 3_600_000;
  const minDurationMs = durationOption(values['min-duration'], 'min-duration');
  const timeoutMs = durationOption(values.timeout, 'timeout');
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new PullUsageError(`--limit must be an integer from 1 to 1000, got "${values.limit}"`);
  }
  const api = (values.api ?? `http://${LOOPBACK}:${DEFAULT_HTTP_PORT}`).replace(
    /\/+(api\/?)?$/,
    '',
  );
  const backendToken = values.token ?? (process.env.STAGELIGHT_BACKEND_TOKEN || undefined);
  const receiverToken = process.env.STAGELIGHT_TOKEN || undefined;
  let client: JaegerClient;
  try {
    client = new JaegerClient({ url, token: backendToken, timeoutMs });
  } catch (e) {
    throw new PullUsageError((e as Error).message);
  }
  try {
    await checkReceiver(api, receiverToken);
    const sink = receiverSink(api, receiverToken);
    const now = Date.now();
    const report =
      values.trace !== undefined
        ? await pullTrace(client, values.trace, sink)
        : await pullTraces(
            client,
            {
              service: values.service!,
              operation: values.operation,
              minDurationMs,
              startMs: now - sinceMs,
              endMs: now + 60_000,
              limit,
            },
            sink,
          );
    console.log(formatPullReport(report, api));
    return report.failed.length > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof BackendError || e instanceof PullError) {
      console.error(`stagelight pull: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
