/**
 * Deeply nested OTLP AnyValues, as protobuf and as OTLP/JSON text, for tests of the nesting
 * limits; both built in time linear in the depth.
 */
import { WireType } from '../../../src/core/otlp/proto-reader.js';
import { ProtoWriter } from '../../../src/core/otlp/proto-writer.js';

/**
 * An AnyValue nested `levels` deep in arrayValues around a string, built in linear time: the
 * length prefixes are computed inside out, then the headers are written outside in.
 */
export function nestedArrayValue(levels: number): Uint8Array {
  const core = new ProtoWriter().stringField(1, 'x').finish();
  // inner[i]: length of the AnyValue at level i (1 = outermost); level `levels + 1` is the core.
  const anyLen = new Array<number>(levels + 2);
  const arrayLen = new Array<number>(levels + 2);
  anyLen[levels + 1] = core.length;
  const varintLen = (n: number) => new ProtoWriter().uint32(n).length;
  for (let i = levels; i >= 1; i--) {
    // ArrayValue{1: AnyValue(level i+1)}, AnyValue{5: ArrayValue}
    arrayLen[i] = 1 + varintLen(anyLen[i + 1]!) + anyLen[i + 1]!;
    anyLen[i] = 1 + varintLen(arrayLen[i]!) + arrayLen[i]!;
  }
  const w = new ProtoWriter(anyLen[1]!);
  for (let i = 1; i <= levels; i++) {
    w.tag(5, WireType.LEN).uint32(arrayLen[i]!);
    w.tag(1, WireType.LEN).uint32(anyLen[i + 1]!);
  }
  w.raw(core);
  return w.finish();
}

/** The OTLP/JSON text of `nestedArrayValue(levels)`. */
export function nestedJsonAnyValue(levels: number): string {
  return '{"arrayValue":{"values":['.repeat(levels) + '{"stringValue":"x"}' + ']}}'.repeat(levels);
}
