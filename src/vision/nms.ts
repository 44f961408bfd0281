/**
 * Box overlap and greedy non-maximum suppression. Pure, no I/O.
 *
 * @module
 */

import type { Box, Detection } from "../shared/mod.ts";

/**
 * Intersection over union of two boxes, with continuous coordinates (a box
 * `[0, 0, 2, 2]` has area 4). Returns 0 when the union is empty.
 *
 * @example
 * ```ts
 * import { iou } from "./nms.ts";
 * import assert from "node:assert/strict";
 * assert.equal(iou([0, 0, 2, 2], [1, 0, 3, 2]), 2 / 6);
 * ```
 * @param a First box `[x1, y1, x2, y2]`.
 * @param b Second box.
 * @returns IoU in 0..1.
 */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = Math.max(0, a[2] - a[0]) * Math.max(0, a[3] - a[1]);
  const areaB = Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/** Options for {@linkcode nms}. */
export interface NmsOptions {
  /** A box is dropped when its IoU with a kept, higher-scoring box is > this. */
  iouThreshold: number;
  /**
   * Only suppress boxes of the same `classId`. Off by default, because for
   * tracking a vehicle seen as both "car" and "truck" is still one vehicle.
   * @default {false}
   */
  classAware?: boolean;
}

/**
 * Greedy non-maximum suppression: detections are visited by descending score
 * (ties keep input order) and each is kept unless it overlaps a kept one by
 * more than `iouThreshold`. The input array is not changed.
 *
 * @example
 * ```ts
 * import { nms } from "./nms.ts";
 * import assert from "node:assert/strict";
 * const kept = nms([
 *   { box: [0, 0, 10, 10], score: 0.5, classId: 0 },
 *   { box: [1, 0, 11, 10], score: 0.9, classId: 0 },
 * ], { iouThreshold: 0.45 });
 * assert.deepEqual(kept.map((d) => d.score), [0.9]);
 * ```
 * @param dets Detections, in any order.
 * @param options IoU threshold and class awareness.
 * @returns The kept detections, highest score first.
 * @throws {RangeError} When `iouThreshold` is not in 0..1.
 */
export function nms(dets: Detection[], options: NmsOptions): Detection[] {
  const { iouThreshold, classAware = false } = options;
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) {
    throw new RangeError(
      `Cannot run NMS as 'iouThreshold' must be in 0..1: current value is ${iouThreshold}`,
    );
  }
  const order = dets.map((_, i) => i);
  order.sort((i, j) => dets[j].score - dets[i].score || i - j);
  const suppressed = new Uint8Array(dets.length);
  const kept: Detection[] = [];
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    const di = dets[i];
    kept.push(di);
    for (let oj = oi + 1; oj < order.length; oj++) {
      const j = order[oj];
      if (suppressed[j]) continue;
      const dj = dets[j];
      if (classAware && dj.classId !== di.classId) continue;
      if (iou(di.box, dj.box) > iouThreshold) suppressed[j] = 1;
    }
  }
  return kept;
}
