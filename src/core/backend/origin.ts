/**
 * Where spans came from. Spans pulled from a team backend carry the resource attribute
 * {@link SOURCE_ATTRIBUTE} (the backend's URL); spans without it were sent to this receiver by a
 * local run. The mark is an ordinary resource attribute so that it survives every path a span
 * takes (the persistence log, export, the read API) without a column of its own, and so that
 * pulled spans go through the same decoder and limits as any other OTLP request.
 *
 * The one rule: a span is pulled when its resource has the mark (span counts and durations), and
 * a trace when its first span is (critical-path shares, the runs the diagnoses look at, "against
 * prod"). Pulled spans come one trace per request, so the two agree but for a trace that was
 * both received locally and pulled, which stays local.
 */
import type { ResourceInfo, SpanRecord } from '../model.js';

/** The resource attribute that names the backend a span was pulled from. */
export const SOURCE_ATTRIBUTE = 'stagelight.source';

/** The short label the views put before figures computed over pulled traces ("prod p95 1.4 s"). */
export const PULLED_LABEL = 'prod';

// Resources are shared per distinct encoding (model.ts), so this cache holds one entry per
// resource, and the ingest path pays one WeakMap lookup per batch of a resource.
const cache = new WeakMap<ResourceInfo, string | null>();

/** The backend a resource's spans were pulled from, or undefined for local spans. */
export function resourceSource(resource: ResourceInfo): string | undefined {
  let source = cache.get(resource);
  if (source === undefined) {
    source = null;
    for (const kv of resource.attributes) {
      if (kv.key === SOURCE_ATTRIBUTE && 'stringValue' in kv.value && kv.value.stringValue !== '') {
        source = kv.value.stringValue;
        break;
      }
    }
    cache.set(resource, source);
  }
  return source ?? undefined;
}

/** The backend a span was pulled from, or undefined for a local one. */
export function spanSource(span: SpanRecord): string | undefined {
  return resourceSource(span.resource);
}

/**
 * Whether any of the spans was pulled. On the ingest path: spans of one resource come together,
 * so the cache is asked once per run of a resource, not once per span.
 */
export function anyPulled(spans: readonly SpanRecord[]): boolean {
  let last: ResourceInfo | undefined;
  for (const s of spans) {
    if (s.resource === last) continue;
    last = s.resource;
    if (resourceSource(last) !== undefined) return true;
  }
  return false;
}

/** The backend a trace was pulled from (its first span decides), or undefined when local. */
export function traceSource(spans: readonly SpanRecord[]): string | undefined {
  const first = spans[0];
  return first === undefined ? undefined : spanSource(first);
}
