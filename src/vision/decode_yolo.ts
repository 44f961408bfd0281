/**
 * Decoders for Ultralytics-style detector outputs: the end-to-end YOLOv9
 * plate detector (`[N, 7]`), the NMS-free YOLO26 plate detector
 * (`[1, 300, 6]`) and plain YOLOv8 heads (`[1, 4 + C, N]`). Pure, no I/O.
 * Every box is in model-input (letterbox) pixels; map it back with
 * `unletterboxBox`.
 *
 * @module
 */

import type { Detection } from "../shared/mod.ts";

/** Options for {@linkcode decodeYoloV9E2E} and {@linkcode decodeYolo26E2E}. */
export interface DecodeE2EOptions {
  /** Rows with a score below this are dropped. */
  scoreThreshold: number;
}

function checkRows(output: Float32Array, rowLen: number, name: string): void {
  if (output.length % rowLen !== 0) {
    throw new RangeError(
      `Cannot decode ${name} output as it has ${output.length} values: expected a multiple of ${rowLen}`,
    );
  }
}

/**
 * Decodes the end-to-end YOLOv9 output `[N, 7]`: rows
 * `batch, x1, y1, x2, y2, class, score`, NMS already done in the graph. Rows
 * with score >= `scoreThreshold` are kept, in output order; the batch column
 * is ignored (batch 1). N may be 0.
 *
 * @example
 * ```ts
 * import { decodeYoloV9E2E } from "./decode_yolo.ts";
 * import assert from "node:assert/strict";
 * const out = new Float32Array([0, 10, 20, 50, 40, 0, 0.5]);
 * assert.deepEqual(decodeYoloV9E2E(out, { scoreThreshold: 0.25 }), [{ box: [10, 20, 50, 40], score: 0.5, classId: 0 }]);
 * ```
 * @param output The `output0` tensor's data.
 * @param options Score threshold.
 * @returns Detections in letterbox pixels.
 * @throws {RangeError} When the length is not a multiple of 7.
 */
export function decodeYoloV9E2E(
  output: Float32Array,
  options: DecodeE2EOptions,
): Detection[] {
  const { scoreThreshold } = options;
  checkRows(output, 7, "YOLOv9 end-to-end");
  const dets: Detection[] = [];
  for (let base = 0; base < output.length; base += 7) {
    const score = output[base + 6];
    if (!(score >= scoreThreshold)) continue;
    dets.push({
      box: [
        output[base + 1],
        output[base + 2],
        output[base + 3],
        output[base + 4],
      ],
      score,
      classId: Math.round(output[base + 5]),
    });
  }
  return dets;
}

/**
 * Decodes the NMS-free YOLO26 output `[1, 300, 6]`: rows
 * `x1, y1, x2, y2, score, class`. Rows with score >= `scoreThreshold` are
 * kept, in output order.
 *
 * @example
 * ```ts
 * import { decodeYolo26E2E } from "./decode_yolo.ts";
 * import assert from "node:assert/strict";
 * const out = new Float32Array([10, 20, 50, 40, 0.5, 0, 1, 2, 3, 4, 0, 0]);
 * assert.deepEqual(decodeYolo26E2E(out, { scoreThreshold: 0.25 }), [{ box: [10, 20, 50, 40], score: 0.5, classId: 0 }]);
 * ```
 * @param output The `output0` tensor's data.
 * @param options Score threshold.
 * @returns Detections in letterbox pixels.
 * @throws {RangeError} When the length is not a multiple of 6.
 */
export function decodeYolo26E2E(
  output: Float32Array,
  options: DecodeE2EOptions,
): Detection[] {
  const { scoreThreshold } = options;
  checkRows(output, 6, "YOLO26 end-to-end");
  const dets: Detection[] = [];
  for (let base = 0; base < output.length; base += 6) {
    const score = output[base + 4];
    if (!(score >= scoreThreshold)) continue;
    dets.push({
      box: [output[base], output[base + 1], output[base + 2], output[base + 3]],
      score,
      classId: Math.round(output[base + 5]),
    });
  }
  return dets;
}

/** Options for {@linkcode decodeYoloV8}. */
export interface DecodeYoloV8Options {
  /** Number of anchors N (8400 at 640, 2100 at 320). */
  numAnchors: number;
  /** Number of class score rows C (80 for COCO, 1 for plates). */
  numClasses: number;
  /** Anchors whose best class score is below this are dropped. */
  scoreThreshold: number;
  /**
   * Classes to consider; the best of these is reported, other classes are
   * ignored even if more likely.
   * @default {all classes}
   */
  classIds?: number[];
}

/**
 * Decodes a YOLOv8 head `[1, 4 + C, N]`, channel-major: rows 0-3 hold
 * cx, cy, w, h of every anchor, rows 4.. the sigmoid-ed class scores (no
 * objectness). An anchor is kept when its best allowed class score is >=
 * `scoreThreshold`. No NMS is applied.
 *
 * @example One class, two anchors
 * ```ts
 * import { decodeYoloV8 } from "./decode_yolo.ts";
 * import assert from "node:assert/strict";
 * const out = new Float32Array([20, 0, 10, 0, 8, 0, 4, 0, 0.75, 0.1]);
 * const dets = decodeYoloV8(out, { numAnchors: 2, numClasses: 1, scoreThreshold: 0.25 });
 * assert.deepEqual(dets, [{ box: [16, 8, 24, 12], score: 0.75, classId: 0 }]);
 * ```
 * @param output The `output0` tensor's data.
 * @param options Anchor and class counts, threshold and allowed classes.
 * @returns Detections in letterbox pixels, in anchor order.
 * @throws {RangeError} When the length is not `(4 + C) * N` or a class id is out of range.
 */
export function decodeYoloV8(
  output: Float32Array,
  options: DecodeYoloV8Options,
): Detection[] {
  const { numAnchors: n, numClasses, scoreThreshold, classIds } = options;
  if (output.length !== (4 + numClasses) * n) {
    throw new RangeError(
      `Cannot decode YOLOv8 output as it has ${output.length} values: expected (4 + ${numClasses}) * ${n}`,
    );
  }
  const classes = classIds ?? Array.from({ length: numClasses }, (_, i) => i);
  checkClassIds(classes, { numClasses, format: "YOLOv8" });
  // Class-major pass: each score row is contiguous, so read it in order.
  const bestScore = new Float32Array(n).fill(-1);
  const bestClass = new Int32Array(n).fill(-1);
  for (const c of classes) {
    const rowStart = (4 + c) * n;
    for (let i = 0; i < n; i++) {
      const p = output[rowStart + i];
      if (p > bestScore[i]) {
        bestScore[i] = p;
        bestClass[i] = c;
      }
    }
  }
  const dets: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const c = bestClass[i];
    if (c < 0) continue;
    const score = output[(4 + c) * n + i];
    if (!(score >= scoreThreshold)) continue;
    const cx = output[i];
    const cy = output[n + i];
    const hw = output[2 * n + i] / 2;
    const hh = output[3 * n + i] / 2;
    dets.push({
      box: [cx - hw, cy - hh, cx + hw, cy + hh],
      score,
      classId: c,
    });
  }
  return dets;
}

/**
 * Checks that every class id a caller asks a decoder for names one of the
 * output's class columns.
 *
 * @param classIds The class ids asked for.
 * @param options `numClasses`: class columns of the output; `format`: the
 * output's name in the error (`YOLOv8`, `YOLOX`).
 * @throws {RangeError} On an id that is not an integer in `0..numClasses - 1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkClassIds } from "./decode_yolo.ts";
 * checkClassIds([0, 2], { numClasses: 3, format: "YOLOv8" });
 * assert.throws(() => checkClassIds([3], { numClasses: 3, format: "YOLOv8" }), RangeError);
 * ```
 */
export function checkClassIds(
  classIds: readonly number[],
  options: { numClasses: number; format: string },
): void {
  const { numClasses, format } = options;
  for (const c of classIds) {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new RangeError(
        `Cannot decode ${format} output as 'classIds' must be in 0..${
          numClasses - 1
        }: current value is ${c}`,
      );
    }
  }
}
