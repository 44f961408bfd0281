/**
 * A tiny ONNX model made in the test, for checks of the inference plumbing
 * (a backend, a worker) that do not need real weights: on a software WebGPU
 * adapter (Mesa's llvmpipe) the OCR model's first run compiles its shaders
 * for minutes on a cold shader cache, a fresh CI machine's case, while this
 * graph compiles in seconds.
 *
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType,
  ModelProtoSchema,
  TensorProto_DataType,
} from "onnx-buf";

/** Channels in and out, and the side of the square input. */
const IN = 3;
const OUT = 4;
const SIDE = 8;

function floats(values: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new Float32Array(values).buffer);
}

function tensorType(dims: number[]) {
  return {
    value: {
      case: "tensorType" as const,
      value: {
        elemType: TensorProto_DataType.FLOAT,
        shape: {
          dim: dims.map((d) => ({
            value: { case: "dimValue" as const, value: BigInt(d) },
          })),
        },
      },
    },
  };
}

/**
 * The bytes of a model `x [1, 3, 8, 8] float -> Conv 3x3 (4 filters, pads 1)
 * -> Relu -> Softmax over the channels -> y [1, 4, 8, 8]`, with fixed,
 * non-trivial weights (opset 13).
 *
 * @returns The ONNX file's bytes.
 */
export function tinyConvModel(): Uint8Array {
  const weights = Array.from(
    { length: OUT * IN * 9 },
    (_, i) => ((i * 37) % 17 - 8) / 16,
  );
  const bias = Array.from({ length: OUT }, (_, i) => i / 8 - 0.2);
  const int = (name: string, i: bigint) => ({
    name,
    type: AttributeProto_AttributeType.INT,
    i,
  });
  const ints = (name: string, values: number[]) => ({
    name,
    type: AttributeProto_AttributeType.INTS,
    ints: values.map(BigInt),
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: "dashcam tests",
      opsetImport: [{ domain: "", version: 13n }],
      graph: {
        name: "tiny_conv",
        input: [{ name: "x", type: tensorType([1, IN, SIDE, SIDE]) }],
        output: [{ name: "y", type: tensorType([1, OUT, SIDE, SIDE]) }],
        initializer: [
          {
            name: "w",
            dataType: TensorProto_DataType.FLOAT,
            dims: [BigInt(OUT), BigInt(IN), 3n, 3n],
            rawData: floats(weights),
          },
          {
            name: "b",
            dataType: TensorProto_DataType.FLOAT,
            dims: [BigInt(OUT)],
            rawData: floats(bias),
          },
        ],
        node: [
          {
            name: "conv",
            opType: "Conv",
            input: ["x", "w", "b"],
            output: ["c"],
            attribute: [
              ints("kernel_shape", [3, 3]),
              ints("pads", [1, 1, 1, 1]),
            ],
          },
          { name: "relu", opType: "Relu", input: ["c"], output: ["r"] },
          {
            name: "softmax",
            opType: "Softmax",
            input: ["r"],
            output: ["y"],
            attribute: [int("axis", 1n)],
          },
        ],
      },
    }),
  );
}

/**
 * An input for {@linkcode tinyConvModel}: a ramp of values in 0..1.
 *
 * @returns The feeds, by input name.
 */
export function tinyConvInput(): {
  x: { type: "float32"; data: Float32Array; dims: number[] };
} {
  const data = Float32Array.from(
    { length: IN * SIDE * SIDE },
    (_, i) => (i % 29) / 28,
  );
  return { x: { type: "float32", data, dims: [1, IN, SIDE, SIDE] } };
}
