/**
 * Duplicate plate boxes within one frame. Pure, no I/O.
 *
 * The plate detectors run their own IoU NMS (the end-to-end YOLOv9 in its
 * graph at IoU 0.45), yet in large frames and on second passes over vehicle
 * crops they still give two boxes for one plate: a tight box nested in a
 * loose one, or two boxes shifted by a few pixels whose IoU is about 0.4
 * (measured on `cases/uhd_small_plate`: boxes `[1884,1565,2041,1618]` and
 * `[1867,1548,2023,1600]` in one 3840x2160 frame, IoU 0.42, intersection
 * over the smaller box 0.60). Plates of two vehicles never share most of
 * their area, so a box whose intersection with a kept, higher-scoring box
 * covers more than `maxContainment` of the smaller of the two is the same
 * plate.
 *
 * @module
 */

import type { Box, Detection } from "../shared/mod.ts";
import { iou } from "./nms.ts";

/**
 * Intersection of two boxes divided by the area of the smaller one, in 0..1:
 * 1 when one box lies inside the other. 0 when either box is empty.
 *
 * @example Usage
 * ```ts
 * import { containment } from "./plate_dedupe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(containment([0, 0, 10, 10], [2, 2, 6, 6]), 1);
 * assert.equal(containment([0, 0, 2, 2], [1, 0, 3, 2]), 0.5);
 * ```
 * @param a First box `[x1, y1, x2, y2]`.
 * @param b Second box.
 * @returns Intersection over the smaller area.
 */
export function containment(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const areaA = Math.max(0, a[2] - a[0]) * Math.max(0, a[3] - a[1]);
  const areaB = Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  const smaller = Math.min(areaA, areaB);
  return smaller > 0 ? (iw * ih) / smaller : 0;
}

/** Options for {@linkcode dedupePlates}. */
export interface DedupePlatesOptions {
  /**
   * A box is dropped when its intersection with a kept box covers more than
   * this fraction of the smaller box.
   * @default {0.5}
   */
  maxContainment?: number;
  /**
   * A box is also dropped when its IoU with a kept box is above this (the
   * usual NMS test, for detectors without NMS of their own).
   * @default {0.45}
   */
  maxIou?: number;
}

/**
 * Keeps one box per plate: boxes are visited by descending score (ties keep
 * input order) and each is kept unless it overlaps a kept box by more than
 * `maxContainment` of the smaller box or by an IoU above `maxIou`. Works on
 * any items with a `box` and a `score` (detections, plates paired with
 * vehicles); the input is not changed.
 *
 * @example Nested boxes of one plate
 * ```ts
 * import { dedupePlates } from "./plate_dedupe.ts";
 * import assert from "node:assert/strict";
 * const kept = dedupePlates([
 *   { box: [100, 100, 200, 130], score: 0.6, classId: 0 },
 *   { box: [110, 105, 190, 125], score: 0.7, classId: 0 },
 *   { box: [400, 100, 500, 130], score: 0.5, classId: 0 },
 * ]);
 * assert.deepEqual(kept.map((d) => d.score), [0.7, 0.5]);
 * ```
 * @param plates Plate boxes of one frame, in any order.
 * @param options Thresholds.
 * @returns The kept items, highest score first.
 * @throws {RangeError} When a threshold is not in 0..1.
 */
export function dedupePlates<T extends Pick<Detection, "box" | "score">>(
  plates: readonly T[],
  options: DedupePlatesOptions = {},
): T[] {
  const { maxContainment = 0.5, maxIou = 0.45 } = options;
  for (
    const [name, v] of [["maxContainment", maxContainment], [
      "maxIou",
      maxIou,
    ]] as const
  ) {
    if (!(v >= 0 && v <= 1)) {
      throw new RangeError(
        `Cannot remove duplicate plates as '${name}' must be in 0..1: current value is ${v}`,
      );
    }
  }
  const order = plates.map((_, i) => i);
  order.sort((i, j) => plates[j].score - plates[i].score || i - j);
  const kept: T[] = [];
  for (const i of order) {
    const p = plates[i];
    const duplicate = kept.some((k) =>
      containment(k.box, p.box) > maxContainment || iou(k.box, p.box) > maxIou
    );
    if (!duplicate) kept.push(p);
  }
  return kept;
}
