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
  AttributeProto_AttributeType,
  AttributeProtoSchema,
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
import type { DeriveRecipe, Dim, ModelEntry } from "./model_manifest.ts";
import { YOLOX_ROW_HEAD } from "./decode_yolox.ts";

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
  /**
   * Class ids to keep, in the order of the new class columns (recipe
   * `select_classes`), e.g. COCO 2, 3, 5, 7 for vehicles.
   */
  classIds?: readonly number[];
}

/**
 * The options {@linkcode deriveModel} needs for a derived manifest entry:
 * its input and output shapes and its `classIds`.
 *
 * @param entry The derived model's manifest entry.
 * @returns The options for its recipe.
 */
export function deriveOptions(entry: ModelEntry): DeriveModelOptions {
  return {
    inputs: [entry.input],
    outputs: entry.outputs,
    classIds: entry.classIds,
  };
}

/** Producer written into a model made by {@linkcode dequantizeConvInteger}. */
export const DEQUANTIZED_PRODUCER = {
  name: "dequant-from-int8",
  version: "0.1.0",
};

/**
 * Runs the recipe steps of the manifest, in order, on an upstream model file.
 *
 * - `symbolic_dims`: {@linkcode makeDimsSymbolic} with the derived entry's
 *   input and output dims.
 * - `dequantize_conv_integer`: {@linkcode dequantizeConvInteger}.
 * - `dynamic_anchors`: {@linkcode makeAnchorsDynamic} with the derived
 *   entry's input dims.
 * - `select_classes`: {@linkcode selectClasses} with the derived entry's
 *   `classIds`.
 *
 * @example Make YOLOX-Nano's input height and width free
 * ```ts ignore
 * const bytes = deriveModel(upstream, "symbolic_dims", {
 *   inputs: [{ name: "images", dims: [1, 3, "height", "width"] }],
 *   outputs: [{ name: "output", dims: [1, "anchors", 85] }],
 * });
 * ```
 * @param model The upstream ONNX file's bytes.
 * @param recipe What to do: one step or several, in order.
 * @param options Shapes for `symbolic_dims` and `dynamic_anchors`, classes for `select_classes`.
 * @returns The derived ONNX file's bytes.
 * @throws {Error} One line when the file is not ONNX or does not fit the recipe.
 */
export function deriveModel(
  model: Uint8Array,
  recipe: DeriveRecipe | readonly DeriveRecipe[],
  options: DeriveModelOptions = {},
): Uint8Array {
  const steps = typeof recipe === "string" ? [recipe] : recipe;
  const proto = decode(model);
  for (const step of steps) {
    if (step === "symbolic_dims") dimsSymbolic(proto, options);
    else if (step === "dequantize_conv_integer") dequantize(proto);
    else if (step === "dynamic_anchors") anchorsDynamic(proto, options);
    else if (step === "select_classes") classesSelected(proto, options);
    else {
      throw new Error(`Cannot derive a model: unknown recipe ${String(step)}`);
    }
  }
  return toBinary(ModelProtoSchema, proto);
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
  return deriveModel(model, "symbolic_dims", options);
}

function dimsSymbolic(proto: ModelProto, options: DeriveModelOptions): void {
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
  return deriveModel(model, "dequantize_conv_integer");
}

function dequantize(proto: ModelProto): void {
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
}

/**
 * Makes the input height and width of a YOLOv8/YOLOv9 detection head
 * exported end to end (ultralytics `Detect` with its DFL box decoding in the
 * graph) free. The export writes the head's anchor points (grid-cell
 * centres, float `[1, 2, A]`) and strides (float `[1, A]`) as constants for
 * its one input size, and the DFL `Reshape` shapes carry `A`, so
 * onnxruntime refuses any other size. This step computes both from the
 * shapes of the head's feature maps at run time, as ultralytics'
 * `make_anchors` does (`Shape → Range(0.5, w) → Expand` per level, levels
 * concatenated), turns `A` in every `Reshape` shape into `-1`, and gives the
 * image input the wanted dims (a 16:9 frame then runs at 416x256 instead of
 * 416x416). No weight changes.
 *
 * Checked before anything changes: the strides must be runs of one value
 * per level (8, 16, 32 …) whose lengths fit the graph's input size, and the
 * grid computed for that size must equal the anchor constant exactly; a
 * head laid out any other way is refused, not misdecoded.
 *
 * @param model The ONNX file's bytes (opset 13 or later).
 * @param options The image input's wanted dims (`inputs[0]`).
 * @returns The new file's bytes.
 * @throws {Error} One line when the graph is not such a head.
 */
export function makeAnchorsDynamic(
  model: Uint8Array,
  options: DeriveModelOptions,
): Uint8Array {
  return deriveModel(model, "dynamic_anchors", options);
}

function anchorFail(why: string): never {
  throw new Error(`Cannot make the anchors dynamic: ${why}`);
}

/** Runs of equal values: one `{ stride, count }` per detection level. */
function strideLevels(strides: number[]): { stride: number; count: number }[] {
  const levels: { stride: number; count: number }[] = [];
  for (const s of strides) {
    const last = levels.at(-1);
    if (last?.stride === s) last.count++;
    else levels.push({ stride: s, count: 1 });
  }
  return levels;
}

/**
 * The anchor points `[x…, y…]` (cell centres, in cells) of an input of this
 * size at these stride levels, or null when a level does not fit it.
 */
function anchorGrid(
  levels: readonly { stride: number; count: number }[],
  size: { width: number; height: number },
): number[] | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const { stride, count } of levels) {
    const h = size.height / stride;
    const w = size.width / stride;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h * w !== count) {
      return null;
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        xs.push(x + 0.5);
        ys.push(y + 0.5);
      }
    }
  }
  return [...xs, ...ys];
}

/** The head's anchor and stride constants: the one pair that is the grid of the input's size. */
function anchorHead(
  graph: GraphProto,
  size: { width: number; height: number },
): {
  anchors: TensorProto;
  strides: TensorProto;
  count: number;
  levels: { stride: number; count: number }[];
} {
  const { width, height } = size;
  const floats = graph.initializer.filter((t) =>
    t.dataType === TensorProto_DataType.FLOAT
  );
  const pairs = floats.flatMap((anchors) => {
    const d = anchors.dims.map(Number);
    if (d.length !== 3 || d[0] !== 1 || d[1] !== 2) return [];
    return floats.filter((s) =>
      s.dims.length === 2 && Number(s.dims[0]) === 1 &&
      Number(s.dims[1]) === d[2]
    ).map((strides) => ({ anchors, strides, count: d[2] }));
  });
  if (pairs.length === 0) {
    anchorFail(
      "the graph has no anchor constant [1, 2, A] with a stride constant [1, A]",
    );
  }
  const heads = pairs.flatMap((pair) => {
    const levels = strideLevels(tensorValues(pair.strides));
    const grid = anchorGrid(levels, { width, height });
    const actual = tensorValues(pair.anchors);
    return grid !== null && grid.every((v, i) => v === actual[i])
      ? [{ ...pair, levels }]
      : [];
  });
  if (heads.length !== 1) {
    anchorFail(
      `${heads.length} of the anchor constants ${
        pairs.map((p) => `'${p.anchors.name}'`).join(", ")
      } are the grid of cell centres of a ${width}x${height} input at their strides, expected 1`,
    );
  }
  return heads[0];
}

/** The head's Concat (axis 2) of its reshaped feature maps, and those maps. */
function headConcat(
  graph: GraphProto,
  levels: number,
): { concat: NodeProto; maps: string[] } {
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node) {
    for (const out of node.output) producer.set(out, node);
  }
  const concats = graph.node.filter((node) =>
    node.opType === "Concat" &&
    node.attribute.some((a) => a.name === "axis" && a.i === 2n) &&
    node.input.length === levels &&
    node.input.every((i) => producer.get(i)?.opType === "Reshape")
  );
  if (concats.length !== 1) {
    anchorFail(
      `found ${concats.length} Concat nodes (axis 2) of ${levels} reshaped feature maps, expected 1`,
    );
  }
  const concat = concats[0];
  return {
    concat,
    maps: concat.input.map((i) => producer.get(i)!.input[0]),
  };
}

/**
 * Nodes computing the anchor points `[1, 2, A]` and strides `[1, A]` from
 * the feature maps' shapes, with their constants.
 */
function anchorGridGraph(
  maps: readonly string[],
  levels: readonly { stride: number }[],
): {
  nodes: NodeProto[];
  initializers: TensorProto[];
  anchorPoints: string;
  strideTensor: string;
} {
  const prefix = "/dynamic_anchors";
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const constant = (
    name: string,
    type: "float" | "int64",
    values: number[],
    dims: number[],
  ): string => {
    const full = `${prefix}/${name}`;
    initializers.push(create(TensorProtoSchema, {
      name: full,
      dataType: type === "float"
        ? TensorProto_DataType.FLOAT
        : TensorProto_DataType.INT64,
      dims: dims.map(BigInt),
      rawData: new Uint8Array(
        type === "float"
          ? new Float32Array(values).buffer
          : new BigInt64Array(values.map(BigInt)).buffer,
      ),
    }));
    return full;
  };
  const node = (
    opType: string,
    name: string,
    inputs: string[],
    attributes: Record<string, number> = {},
  ): string => {
    const output = `${prefix}/${name}_output_0`;
    nodes.push(create(NodeProtoSchema, {
      name: `${prefix}/${name}`,
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([key, i]) =>
        create(AttributeProtoSchema, {
          name: key,
          type: AttributeProto_AttributeType.INT,
          i: BigInt(i),
        })
      ),
    }));
    return output;
  };
  const half = constant("half", "float", [0.5], []);
  const one = constant("one", "float", [1], []);
  const [dimH, dimW] = [
    constant("dim_h", "int64", [2], []),
    constant("dim_w", "int64", [3], []),
  ];
  const [from2, to4] = [
    constant("from_2", "int64", [2], [1]),
    constant("to_4", "int64", [4], [1]),
  ];
  const [axis0, axis1] = [
    constant("axis_0", "int64", [0], [1]),
    constant("axis_1", "int64", [1], [1]),
  ];
  const row = constant("row", "int64", [1, -1], [2]);
  const points: string[] = [];
  const strideRows: string[] = [];
  levels.forEach(({ stride }, i) => {
    const shape = node("Shape", `Shape_${i}`, [maps[i]]);
    const hw = node("Slice", `Slice_${i}`, [shape, from2, to4]);
    const h = node("Cast", `Cast_h_${i}`, [
      node("Gather", `Gather_h_${i}`, [shape, dimH]),
    ], { to: TensorProto_DataType.FLOAT });
    const w = node("Cast", `Cast_w_${i}`, [
      node("Gather", `Gather_w_${i}`, [shape, dimW]),
    ], { to: TensorProto_DataType.FLOAT });
    const xs = node("Unsqueeze", `Unsqueeze_x_${i}`, [
      node("Range", `Range_x_${i}`, [half, w, one]),
      axis0,
    ]);
    const ys = node("Unsqueeze", `Unsqueeze_y_${i}`, [
      node("Range", `Range_y_${i}`, [half, h, one]),
      axis1,
    ]);
    const x = node("Reshape", `Reshape_x_${i}`, [
      node("Expand", `Expand_x_${i}`, [xs, hw]),
      row,
    ]);
    const y = node("Reshape", `Reshape_y_${i}`, [
      node("Expand", `Expand_y_${i}`, [ys, hw]),
      row,
    ]);
    points.push(node("Concat", `Concat_xy_${i}`, [x, y], { axis: 0 }));
    strideRows.push(node("Expand", `Expand_stride_${i}`, [
      constant(`stride_${i}`, "float", [stride], [1, 1]),
      node("Shape", `Shape_row_${i}`, [x]),
    ]));
  });
  const anchorPoints = node("Unsqueeze", "Unsqueeze_anchors", [
    node("Concat", "Concat_anchors", points, { axis: 1 }),
    axis0,
  ]);
  const strideTensor = node("Concat", "Concat_strides", strideRows, {
    axis: 1,
  });
  return { nodes, initializers, anchorPoints, strideTensor };
}

function anchorsDynamic(proto: ModelProto, options: DeriveModelOptions): void {
  const graph = proto.graph as GraphProto;
  const opset = proto.opsetImport.find((o) => o.domain === "")?.version ?? 0n;
  if (opset < 13n) anchorFail(`opset ${opset} is older than 13`);
  const wanted = options.inputs?.[0];
  const input = graph.input.find((i) => i.name === wanted?.name);
  if (wanted === undefined || input === undefined) {
    anchorFail(`the graph has no input '${wanted?.name ?? ""}'`);
  }
  const inputType = input.type?.value;
  const inputDims = inputType?.case === "tensorType"
    ? inputType.value.shape?.dim ?? []
    : [];
  const [height, width] = inputDims.slice(2).map((d) =>
    d.value.case === "dimValue" ? Number(d.value.value) : NaN
  );
  if (inputDims.length !== 4 || !(height > 0) || !(width > 0)) {
    anchorFail(`input '${input.name}' has no fixed NCHW height and width`);
  }
  const { anchors, strides, count, levels } = anchorHead(graph, {
    width,
    height,
  });
  const { concat, maps } = headConcat(graph, levels.length);
  const built = anchorGridGraph(maps, levels);
  const renamed = new Map([
    [anchors.name, built.anchorPoints],
    [strides.name, built.strideTensor],
  ]);
  for (const n of graph.node) n.input = n.input.map((i) => renamed.get(i) ?? i);
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  for (const n of graph.node) {
    const shape = n.opType === "Reshape"
      ? initializers.get(n.input[1])
      : undefined;
    if (shape?.dataType !== TensorProto_DataType.INT64) continue;
    const values = shape.rawData.length > 0
      ? Array.from(new BigInt64Array(shape.rawData.slice().buffer))
      : shape.int64Data;
    if (!values.includes(BigInt(count))) continue;
    if (values.includes(-1n)) {
      anchorFail(`Reshape '${n.name}' already has a free dimension`);
    }
    shape.rawData = new Uint8Array(
      new BigInt64Array(values.map((v) => v === BigInt(count) ? -1n : v))
        .buffer,
    );
    shape.int64Data = [];
  }
  graph.node.splice(graph.node.indexOf(concat), 0, ...built.nodes);
  graph.initializer = [
    ...graph.initializer.filter((t) => !renamed.has(t.name)),
    ...built.initializers,
  ];
  graph.input = graph.input.filter((i) => !renamed.has(i.name));
  setDims(input, wanted);
  graph.valueInfo = [];
}

function selectFail(why: string): never {
  throw new Error(`Cannot select classes: ${why}`);
}

/**
 * Keeps only some classes in the output of a YOLOX head, `[1, N, 5 + C]`
 * with rows `[tx, ty, tw, th, obj, p0..pC-1]` (see `decode_yolox.ts`): a
 * `Gather` on the last axis after the head keeps the 5 box and objectness
 * columns and the class columns of `classIds`, in that order, so the
 * output becomes `[1, N, 5 + K]`. Scores and boxes are unchanged, bit for
 * bit; only the columns nobody reads are gone. For COCO YOLOX-Nano and the
 * 4 vehicle classes that is 9 values a row instead of 85: at a 512x288
 * input the output is 109 KB instead of 1 MB, which onnxruntime-node copies
 * into a new JS buffer on every run.
 *
 * Which class a new column holds is not in the file: the manifest entry
 * carries the same `classIds`, and the decoder maps columns back to them.
 *
 * @param model The ONNX file's bytes (any opset: `Gather` is in every one).
 * @param options `classIds`: the classes to keep, distinct, each `0..C-1`.
 * @returns The new file's bytes.
 * @throws {Error} One line when the graph has not one output `[1, N, 5 + C]` or a class id does not fit.
 */
export function selectClasses(
  model: Uint8Array,
  options: DeriveModelOptions,
): Uint8Array {
  return deriveModel(model, "select_classes", options);
}

function classesSelected(proto: ModelProto, options: DeriveModelOptions): void {
  const graph = proto.graph as GraphProto;
  if (graph.output.length !== 1) {
    selectFail(`the graph has ${graph.output.length} outputs, expected 1`);
  }
  const output = graph.output[0];
  const type = output.type?.value;
  const dims = type?.case === "tensorType" ? type.value.shape?.dim ?? [] : [];
  const last = dims.at(-1)?.value;
  if (
    dims.length !== 3 || last?.case !== "dimValue" ||
    last.value <= BigInt(YOLOX_ROW_HEAD)
  ) {
    selectFail(
      `output '${output.name}' is not [1, N, 5 + classes] with a fixed row length`,
    );
  }
  if (graph.node.some((node) => node.input.includes(output.name))) {
    selectFail(`output '${output.name}' is also read inside the graph`);
  }
  const classCount = Number(last.value) - YOLOX_ROW_HEAD;
  const ids = options.classIds ?? [];
  if (ids.length === 0) selectFail("no class ids given");
  ids.forEach((id) => {
    if (!Number.isInteger(id) || id < 0 || id >= classCount) {
      selectFail(`class id ${id} is not in 0..${classCount - 1}`);
    }
  });
  if (new Set(ids).size !== ids.length) {
    selectFail(`class ids ${ids.join(", ")} repeat one`);
  }
  const columns = [
    ...Array.from({ length: YOLOX_ROW_HEAD }, (_, i) => i),
    ...ids.map((id) => YOLOX_ROW_HEAD + id),
  ];
  const prefix = "/select_classes";
  const all = `${prefix}/all_classes`;
  const indices = `${prefix}/columns`;
  for (const node of graph.node) {
    node.output = node.output.map((o) => o === output.name ? all : o);
  }
  graph.initializer.push(create(TensorProtoSchema, {
    name: indices,
    dataType: TensorProto_DataType.INT64,
    dims: [BigInt(columns.length)],
    rawData: new Uint8Array(
      new BigInt64Array(columns.map(BigInt)).buffer,
    ),
  }));
  graph.node.push(create(NodeProtoSchema, {
    name: `${prefix}/Gather`,
    opType: "Gather",
    input: [all, indices],
    output: [output.name],
    attribute: [create(AttributeProtoSchema, {
      name: "axis",
      type: AttributeProto_AttributeType.INT,
      i: 2n,
    })],
  }));
  dims[2] = create(TensorShapeProto_DimensionSchema, {
    value: { case: "dimValue", value: BigInt(columns.length) },
  });
  graph.valueInfo = [];
}
