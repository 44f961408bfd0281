/**
 * Makes the derived models of `models/models.json` from their upstream ONNX
 * files. ONNX files are protobuf `ModelProto` messages: they are read and
 * written with `@bufbuild/protobuf` and the official `onnx.proto` schema
 * (compiled in npm `onnx-buf`, ONNX 1.20), never parsed by hand. Pure: bytes
 * in, bytes out, no I/O.
 *
 * The writer emits fields in field-number order, like the reference C++
 * protobuf that `onnx.save` uses, and keeps unknown fields; so a file that
 * `onnx.save` wrote comes back byte for byte when nothing is changed, and the
 * output is the same on every machine.
 *
 * @module
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type GraphProto,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  type ValueInfoProto,
} from "onnx-buf";
import type { DeriveRecipe, Dim } from "./model_manifest.ts";

/** Shape wanted for one graph input or output. */
export interface TensorDims {
  /** Input or output name in the graph. */
  name: string;
  /** Wanted dimensions: a number must match the graph, a string becomes a symbolic `dim_param`. */
  dims: Dim[];
}

/** Options for {@linkcode deriveModel}. */
export interface DeriveModelOptions {
  /** Wanted input shapes (recipe `symbolic_dims`). @default {[]} */
  inputs?: TensorDims[];
  /** Wanted output shapes (recipe `symbolic_dims`). @default {[]} */
  outputs?: TensorDims[];
}

/** Producer written into a model made by {@linkcode dequantizeConvInteger}. */
export const DEQUANTIZED_PRODUCER = {
  name: "dequant-from-int8",
  version: "0.1.0",
};

/**
 * Runs a recipe of the manifest on an upstream model file.
 *
 * - `symbolic_dims`: {@linkcode makeDimsSymbolic} with the derived entry's
 *   input and output dims.
 * - `dequantize_conv_integer`: {@linkcode dequantizeConvInteger}.
 *
 * @example Make YOLOX-Nano's input height and width free
 * ```ts ignore
 * const bytes = deriveModel(upstream, "symbolic_dims", {
 *   inputs: [{ name: "images", dims: [1, 3, "height", "width"] }],
 *   outputs: [{ name: "output", dims: [1, "anchors", 85] }],
 * });
 * ```
 * @param model The upstream ONNX file's bytes.
 * @param recipe What to do.
 * @param options Shapes for `symbolic_dims`.
 * @returns The derived ONNX file's bytes.
 * @throws {Error} One line when the file is not ONNX or does not fit the recipe.
 */
export function deriveModel(
  model: Uint8Array,
  recipe: DeriveRecipe,
  options: DeriveModelOptions = {},
): Uint8Array {
  if (recipe === "symbolic_dims") return makeDimsSymbolic(model, options);
  if (recipe === "dequantize_conv_integer") return dequantizeConvInteger(model);
  throw new Error(`Cannot derive a model: unknown recipe ${String(recipe)}`);
}

function decode(model: Uint8Array): ModelProto {
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, model);
  } catch (error) {
    throw new Error(
      `Cannot read ONNX model: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  if (proto.graph === undefined) {
    throw new Error("Cannot read ONNX model: it has no graph");
  }
  return proto;
}

function setDims(value: ValueInfoProto, wanted: TensorDims): void {
  const type = value.type?.value;
  if (type?.case !== "tensorType" || type.value.shape === undefined) {
    throw new Error(
      `Cannot set the dims of '${wanted.name}': not a tensor with a shape`,
    );
  }
  const dims = type.value.shape.dim;
  if (dims.length !== wanted.dims.length) {
    throw new Error(
      `Cannot set the dims of '${wanted.name}': the graph has ${dims.length} dims, the manifest ${wanted.dims.length}`,
    );
  }
  wanted.dims.forEach((want, i) => {
    if (typeof want === "string") {
      dims[i] = create(TensorShapeProto_DimensionSchema, {
        value: { case: "dimParam", value: want },
      });
    } else {
      const have = dims[i].value;
      if (have.case !== "dimValue" || have.value !== BigInt(want)) {
        throw new Error(
          `Cannot set the dims of '${wanted.name}': dim ${i} is ${
            String(have.value)
          } in the graph, ${want} in the manifest`,
        );
      }
    }
  });
}

/**
 * Gives named graph inputs and outputs symbolic (free) dimensions, e.g. turns
 * YOLOX-Nano's fixed `images [1,3,416,416]` into `[1,3,height,width]`. The
 * graph's `value_info` (shapes of intermediate tensors, which held only for
 * the fixed size) is dropped; no node or weight changes.
 *
 * @param model The ONNX file's bytes.
 * @param options Wanted shapes of inputs and outputs.
 * @returns The new file's bytes.
 * @throws {Error} When a named input or output is absent, or a fixed dim differs.
 */
export function makeDimsSymbolic(
  model: Uint8Array,
  options: DeriveModelOptions,
): Uint8Array {
  const proto = decode(model);
  const graph = proto.graph as GraphProto;
  const apply = (
    values: ValueInfoProto[],
    wanted: TensorDims[],
    kind: string,
  ) => {
    for (const want of wanted) {
      const value = values.find((v) => v.name === want.name);
      if (value === undefined) {
        throw new Error(
          `Cannot set the dims of ${kind} '${want.name}': the graph has no such ${kind}`,
        );
      }
      setDims(value, want);
    }
  };
  apply(graph.input, options.inputs ?? [], "input");
  apply(graph.output, options.outputs ?? [], "output");
  graph.valueInfo = [];
  return toBinary(ModelProtoSchema, proto);
}

function only<T>(items: T[] | undefined, what: string): T {
  if (items === undefined || items.length !== 1) {
    throw new Error(
      `Cannot dequantize: ${what} has ${
        items?.length ?? 0
      } consumers, expected 1`,
    );
  }
  return items[0];
}

function tensorValues(t: TensorProto): number[] {
  if (t.rawData.length > 0) {
    const raw = t.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (t.dataType) {
      case TensorProto_DataType.FLOAT:
        return Array.from(
          { length: raw.length / 4 },
          (_, i) => view.getFloat32(i * 4, true),
        );
      case TensorProto_DataType.UINT8:
        return Array.from(raw);
      case TensorProto_DataType.INT8:
        return Array.from(raw, (b) => (b << 24) >> 24);
    }
  } else if (t.dataType === TensorProto_DataType.FLOAT) {
    return t.floatData;
  } else if (
    t.dataType === TensorProto_DataType.UINT8 ||
    t.dataType === TensorProto_DataType.INT8
  ) {
    return t.int32Data;
  }
  throw new Error(
    `Cannot dequantize: tensor '${t.name}' has data type ${t.dataType}`,
  );
}

/**
 * Turns each int8 `ConvInteger` of a dynamically quantised model (as
 * `onnxruntime.quantization.quantize_dynamic` writes it) back into an fp32
 * `Conv`. Each chain
 * `DynamicQuantizeLinear(x) → ConvInteger(xq, wq, xzp, wzp) → Cast → Mul(x_scale·w_scale) [→ Add(Reshape(bias))]`
 * becomes `Conv(x, (wq − wzp)·w_scale, bias)`, named `<ConvInteger>_fp32`, in
 * the ConvInteger's place, with its attributes. The dequantised weight is a
 * new float32 initializer `<weight>_deq` appended in node order; the
 * initializers and `DynamicQuantizeLinear` nodes nothing uses any more are
 * dropped. Every other node (e.g. `MatMulInteger`) is kept. The arithmetic is
 * float32 `(w − zp) · scale`, exact to the float32 product, so the same on
 * every machine.
 *
 * @param model The ONNX file's bytes.
 * @returns The new file's bytes.
 * @throws {Error} When a ConvInteger is not in the chain above.
 */
export function dequantizeConvInteger(model: Uint8Array): Uint8Array {
  const proto = decode(model);
  const graph = proto.graph as GraphProto;
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node) {
    for (const out of node.output) producer.set(out, node);
    for (const input of node.input) {
      if (!consumers.has(input)) consumers.set(input, []);
      consumers.get(input)!.push(node);
    }
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const init = (name: string): TensorProto => {
    const t = initializers.get(name);
    if (t === undefined) {
      throw new Error(`Cannot dequantize: '${name}' is not an initializer`);
    }
    return t;
  };
  const removed = new Set<NodeProto>();
  const replaced = new Map<NodeProto, NodeProto>();
  const added: TensorProto[] = [];
  for (const node of graph.node) {
    if (node.opType !== "ConvInteger") continue;
    const [xq, wq, , wzpName] = node.input;
    const quantize = producer.get(xq);
    if (quantize?.opType !== "DynamicQuantizeLinear") {
      throw new Error(
        `Cannot dequantize '${node.name}': its input is not from DynamicQuantizeLinear`,
      );
    }
    const cast = only(consumers.get(node.output[0]), `'${node.name}'`);
    const rescale = only(consumers.get(cast.output[0]), `'${cast.name}'`);
    const scalesName = rescale.input.find((i) => i !== cast.output[0]) ?? "";
    const scales = producer.get(scalesName);
    if (
      cast.opType !== "Cast" || rescale.opType !== "Mul" ||
      scales?.opType !== "Mul"
    ) {
      throw new Error(
        `Cannot dequantize '${node.name}': not followed by Cast and Mul(scales)`,
      );
    }
    const wScaleName = scales.input.find((i) => i !== quantize.output[1]) ?? "";
    const weight = init(wq);
    const values = tensorValues(weight);
    const zeroPoints = wzpName ? tensorValues(init(wzpName)) : [0];
    const scaleValues = tensorValues(init(wScaleName));
    const outChannels = Number(weight.dims[0]);
    const perChannel = values.length / outChannels;
    const deq = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const c = Math.floor(i / perChannel);
      const zp = zeroPoints.length === 1 ? zeroPoints[0] : zeroPoints[c];
      const scale = scaleValues.length === 1 ? scaleValues[0] : scaleValues[c];
      deq[i] = (values[i] - zp) * scale;
    }
    const deqName = `${wq.replace(/_quantized$/, "")}_deq`;
    added.push(create(TensorProtoSchema, {
      name: deqName,
      dataType: TensorProto_DataType.FLOAT,
      dims: [...weight.dims],
      rawData: new Uint8Array(deq.buffer),
    }));
    const inputs = [quantize.input[0], deqName];
    let output = rescale.output[0];
    removed.add(cast).add(rescale).add(scales);
    const next = consumers.get(rescale.output[0]);
    if (next?.length === 1 && next[0].opType === "Add") {
      const add = next[0];
      const biasName = add.input.find((i) => i !== rescale.output[0]) ?? "";
      const reshape = producer.get(biasName);
      if (reshape?.opType === "Reshape" && initializers.has(reshape.input[0])) {
        inputs.push(reshape.input[0]);
        output = add.output[0];
        removed.add(add).add(reshape);
      }
    }
    replaced.set(
      node,
      create(NodeProtoSchema, {
        name: `${node.name}_fp32`,
        opType: "Conv",
        input: inputs,
        output: [output],
        attribute: node.attribute,
      }),
    );
  }
  let nodes = graph.node.filter((n) => !removed.has(n)).map((n) =>
    replaced.get(n) ?? n
  );
  const used = () => new Set(nodes.flatMap((n) => n.input));
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const stillUsed = used();
  nodes = nodes.filter((n) =>
    n.opType !== "DynamicQuantizeLinear" ||
    n.output.some((o) => stillUsed.has(o) || graphOutputs.has(o))
  );
  const usedAfter = used();
  const usedBefore = new Set(graph.node.flatMap((n) => n.input));
  graph.initializer = [
    ...graph.initializer.filter((t) =>
      usedAfter.has(t.name) || !usedBefore.has(t.name)
    ),
    ...added,
  ];
  graph.node = nodes;
  proto.producerName = DEQUANTIZED_PRODUCER.name;
  proto.producerVersion = DEQUANTIZED_PRODUCER.version;
  return toBinary(ModelProtoSchema, proto);
}
