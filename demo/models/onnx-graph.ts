/**
 * A small ONNX graph builder and ModelProto encoder. The demo's models are built in code, so the
 * package ships no weights and downloads nothing; the bytes are written with the project's own
 * protobuf writer from the field numbers of the ONNX specification (onnx.proto).
 *
 * Only what the demo's graphs need is here: float32 and int64 tensors, nodes with int, float and
 * ints attributes, graph inputs/outputs with symbolic or fixed dimensions.
 */
import { ProtoWriter } from '../../src/core/otlp/proto-writer.js';
import { WireType } from '../../src/core/otlp/proto-reader.js';

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** IR version 8 goes with opset 17 (LayerNormalization arrived in 17). */
const IR_VERSION = 8;
const OPSET = 17;

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

type AttrValue = number | { int: number } | readonly number[];

/** One NodeProto. `attrs`: a plain number is a float unless wrapped as `{ int }`. */
export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

/** A graph input or output; a string dimension is symbolic (e.g. "batch"). */
export interface ValueInfo {
  readonly name: string;
  readonly type: DataType;
  readonly dims: readonly (number | string)[];
}

/** A constant tensor (weights, shapes) stored in the graph. */
export interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/**
 * Builds a graph node by node; `node()` returns a fresh output name so graph code reads as
 * expressions: `const h = g.node('MatMul', [x, w])`.
 */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, type: DataType, dims: readonly (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  output(name: string, type: DataType, dims: readonly (number | string)[]): void {
    this.outputs.push({ name, type, dims });
  }

  /** Adds a float32 initializer. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`initializer ${name}: ${data.length} != ${size}`);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** Adds an int64 initializer (shapes, axes, indices). */
  ints(name: string, values: readonly number[]): string {
    this.initializers.push({
      name,
      dims: [values.length],
      data: BigInt64Array.from(values.map((v) => BigInt(v))),
    });
    return name;
  }

  node(
    op: string,
    inputs: readonly string[],
    attrs?: Readonly<Record<string, AttrValue>>,
    outputName?: string,
  ): string {
    const out = outputName ?? `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  /** Encodes the graph as an ONNX ModelProto. */
  toModelProto(producer: string, metadata: Record<string, string> = {}): Buffer {
    const m = new ProtoWriter(estimateSize(this) + 4096);
    m.tag(1, WireType.VARINT).int64(IR_VERSION); // ir_version
    m.stringField(2, producer); // producer_name
    m.stringField(3, '1'); // producer_version
    m.tag(5, WireType.VARINT).int64(1); // model_version
    m.message(7, (g) => this.writeGraph(g)); // graph
    m.message(8, (o) => {
      // opset_import: OperatorSetIdProto { domain = 1, version = 2 }; "" is the default domain.
      o.stringField(1, '');
      o.tag(2, WireType.VARINT).int64(OPSET);
    });
    for (const [key, value] of Object.entries(metadata)) {
      // metadata_props: StringStringEntryProto { key = 1, value = 2 }
      m.message(14, (e) => e.stringField(1, key).stringField(2, value));
    }
    return Buffer.from(m.finish());
  }

  private writeGraph(g: ProtoWriter): void {
    for (const n of this.nodes) {
      // GraphProto.node = 1: NodeProto { input = 1, output = 2, name = 3, op_type = 4, attribute = 5 }
      g.message(1, (p) => {
        for (const i of n.inputs) p.stringField(1, i);
        for (const o of n.outputs) p.stringField(2, o);
        p.stringField(3, n.outputs[0] ?? n.op);
        p.stringField(4, n.op);
        for (const [name, value] of Object.entries(n.attrs ?? {})) {
          p.message(5, (a) => writeAttribute(a, name, value));
        }
      });
    }
    g.stringField(2, this.name); // GraphProto.name
    for (const t of this.initializers) g.message(5, (p) => writeTensor(p, t)); // initializer
    for (const v of this.inputs) g.message(11, (p) => writeValueInfo(p, v)); // input
    for (const v of this.outputs) g.message(12, (p) => writeValueInfo(p, v)); // output
  }
}

function estimateSize(g: GraphBuilder): number {
  let n = 0;
  for (const t of g.initializers) n += t.data.byteLength + 64;
  return n + g.nodes.length * 96;
}

/** AttributeProto { name = 1, f = 2, i = 3, ints = 8, type = 20 } */
function writeAttribute(a: ProtoWriter, name: string, value: AttrValue): void {
  a.stringField(1, name);
  if (typeof value === 'number') {
    a.tag(2, WireType.I32);
    const b = Buffer.allocUnsafe(4);
    b.writeFloatLE(value, 0);
    a.raw(b);
    a.tag(20, WireType.VARINT).uint32(AttrType.FLOAT);
  } else if ('int' in value) {
    a.tag(3, WireType.VARINT).int64(value.int);
    a.tag(20, WireType.VARINT).uint32(AttrType.INT);
  } else {
    for (const v of value as readonly number[]) a.tag(8, WireType.VARINT).int64(v);
    a.tag(20, WireType.VARINT).uint32(AttrType.INTS);
  }
}

/** TensorProto { dims = 1, data_type = 2, name = 8, raw_data = 9 } (raw data is little-endian). */
function writeTensor(p: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) p.tag(1, WireType.VARINT).int64(d);
  p.tag(2, WireType.VARINT).uint32(
    t.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64,
  );
  p.stringField(8, t.name);
  p.bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/**
 * ValueInfoProto { name = 1, type = 2 } > TypeProto { tensor_type = 1 } >
 * Tensor { elem_type = 1, shape = 2 } > TensorShapeProto { dim = 1 } >
 * Dimension { dim_value = 1, dim_param = 2 }
 */
function writeValueInfo(p: ProtoWriter, v: ValueInfo): void {
  p.stringField(1, v.name);
  p.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.tag(1, WireType.VARINT).uint32(v.type);
      tensor.message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) => {
            if (typeof d === 'number') dim.tag(1, WireType.VARINT).int64(d);
            else dim.stringField(2, d);
          });
        }
      });
    }),
  );
}
