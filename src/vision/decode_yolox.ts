/**
 * Grid decode of the raw YOLOX head (`yolox_nano.onnx`, and
 * `yolox_nano_dynamic.onnx` at any input size that is a multiple of the
 * largest stride). Pure, no I/O.
 *
 * @module
 */

import type { Detection } from "../shared/mod.ts";
import { checkClassIds } from "./decode_yolo.ts";

/** Values before the class scores in a YOLOX output row: the box (4) and objectness. */
export const YOLOX_ROW_HEAD = 5;

/** Options for {@linkcode decodeYolox}. */
export interface DecodeYoloxOptions {
  /** Width of the model input (letterboxed image) in pixels. */
  inputWidth: number;
  /** Height of the model input in pixels. */
  inputHeight: number;
  /** Number of class scores per row. @default {80, or the length of `columnClassIds`} */
  numClasses?: number;
  /**
   * Class id of each class column, in order, for a model that keeps only
   * some of its training classes (made by `select_classes` in
   * `onnx_derive.ts`, e.g. `[2, 3, 5, 7]`). Detections report these ids.
   * @default {column k is class k}
   */
  columnClassIds?: readonly number[];
  /** Strides of the head levels, in row order. @default {[8, 16, 32]} */
  strides?: number[];
  /** Rows whose best `obj * p_c` is below this are dropped. */
  scoreThreshold: number;
  /**
   * Classes to consider (e.g. COCO 2, 3, 5, 7 for vehicles); the best of
   * these is reported, other classes are ignored even if more likely. With
   * `columnClassIds`, a class the model has no column for is not found.
   * @default {all classes}
   */
  classIds?: readonly number[];
}

/**
 * Decodes the YOLOX output `[1, N, 5 + C]`. Rows run over the strides in
 * order, each grid row-major (y, then x), with
 * `N = sum over s of (H / s) * (W / s)`. Each row is
 * `[tx, ty, tw, th, obj, p0..pC-1]`, objectness and class scores already
 * sigmoid-ed: `cx = (tx + gx) * s`, `cy = (ty + gy) * s`, `w = exp(tw) * s`,
 * `h = exp(th) * s`, `score = obj * p_c` for the best allowed class
 * (column `c`, reported as `columnClassIds[c]` when given).
 * A row is kept when its score is >= `scoreThreshold`. No NMS is applied.
 *
 * @example One planted row in a 32x32 input (grids 4x4, 2x2, 1x1)
 * ```ts
 * import { decodeYolox } from "./decode_yolox.ts";
 * import assert from "node:assert/strict";
 * const out = new Float32Array(21 * 6);
 * out.set([0, 0, 0, 0, 1, 0.5], 20 * 6); // the stride-32 cell
 * const dets = decodeYolox(out, { inputWidth: 32, inputHeight: 32, numClasses: 1, scoreThreshold: 0.3 });
 * assert.deepEqual(dets, [{ box: [-16, -16, 16, 16], score: 0.5, classId: 0 }]);
 * ```
 * @param output The `output` tensor's data.
 * @param options Input size, classes, strides and threshold.
 * @returns Detections in model-input (letterbox) pixels, in row order.
 * @throws {RangeError} When the input size is not a multiple of every stride or the output length does not match it.
 */
export function decodeYolox(
  output: Float32Array,
  options: DecodeYoloxOptions,
): Detection[] {
  const {
    inputWidth,
    inputHeight,
    columnClassIds,
    numClasses = columnClassIds?.length ?? 80,
    strides = [8, 16, 32],
    scoreThreshold,
    classIds,
  } = options;
  if (columnClassIds !== undefined && columnClassIds.length !== numClasses) {
    throw new RangeError(
      `Cannot decode YOLOX output as 'columnClassIds' names ${columnClassIds.length} columns: expected ${numClasses}`,
    );
  }
  const rowLen = YOLOX_ROW_HEAD + numClasses;
  let rows = 0;
  for (const s of strides) {
    if (
      !Number.isInteger(s) || s < 1 || inputWidth % s !== 0 ||
      inputHeight % s !== 0
    ) {
      throw new RangeError(
        `Cannot decode YOLOX output as the input size must be a multiple of every stride: current value is ${inputWidth}x${inputHeight} with stride ${s}`,
      );
    }
    rows += (inputWidth / s) * (inputHeight / s);
  }
  if (output.length !== rows * rowLen) {
    throw new RangeError(
      `Cannot decode YOLOX output as it has ${output.length} values: expected ${rows} rows of ${rowLen} for ${inputWidth}x${inputHeight}`,
    );
  }
  const columnIds = columnClassIds ??
    Array.from({ length: numClasses }, (_, i) => i);
  const wanted = classIds ?? columnIds;
  if (columnClassIds === undefined) {
    checkClassIds(wanted, { numClasses, format: "YOLOX" });
  }
  const columns = wanted.map((id) => columnIds.indexOf(id)).filter((col) =>
    col >= 0
  );
  const nClasses = columns.length;
  const dets: Detection[] = [];
  let row = 0;
  for (const s of strides) {
    const gw = inputWidth / s;
    const gh = inputHeight / s;
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const base = row * rowLen;
        const obj = output[base + 4];
        if (!(obj >= scoreThreshold)) continue;
        let bestP = -1;
        let bestC = -1;
        for (let k = 0; k < nClasses; k++) {
          const p = output[base + YOLOX_ROW_HEAD + columns[k]];
          if (p > bestP) {
            bestP = p;
            bestC = columns[k];
          }
        }
        const score = obj * bestP;
        if (bestC < 0 || !(score >= scoreThreshold)) continue;
        const cx = (output[base] + gx) * s;
        const cy = (output[base + 1] + gy) * s;
        const hw = Math.exp(output[base + 2]) * s / 2;
        const hh = Math.exp(output[base + 3]) * s / 2;
        dets.push({
          box: [cx - hw, cy - hh, cx + hw, cy + hh],
          score,
          classId: columnIds[bestC],
        });
      }
    }
  }
  return dets;
}
