/** OTLP JSON attribute values as plain JS values, to compare with what an SDK recorded. */
import type { AnyValueJson, KeyValueJson } from '../../../src/core/model.js';

/** One OTLP AnyValue (JSON shape) as the plain value an SDK attribute holds. */
export function plain(v: AnyValueJson): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return v.arrayValue.values.map(plain);
  if ('kvlistValue' in v)
    return Object.fromEntries(v.kvlistValue.values.map((kv) => [kv.key, plain(kv.value)]));
  if ('bytesValue' in v) return Buffer.from(v.bytesValue, 'base64');
  return undefined;
}

/** Key-values as one object of plain values. */
export function attrs(kvs: readonly KeyValueJson[]): Record<string, unknown> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, plain(kv.value)]));
}
