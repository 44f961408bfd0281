/**
 * Plates cut off by the frame's left or right edge. Pure, no I/O.
 *
 * A plate entering or leaving the picture sideways shows only some of its
 * characters, and the OCR reads the rest as a shorter plate (`24LSB` for
 * `24LSB1`), which would become an event of its own. A plate cut at the top
 * or bottom edge still shows every character, so only the sides count.
 *
 * @module
 */

import type { Box } from "../shared/mod.ts";

/** Options for {@linkcode isCutByFrameEdge}. */
export interface IsCutByFrameEdgeOptions {
  /**
   * A box within this many source pixels of the left or right edge counts
   * as cut. The plate detector's boxes are only as precise as one pixel of
   * its input, so callers pass about `2 + frameWidth / detectorWidth`.
   * @default {2}
   */
  marginPx?: number;
}

/**
 * Whether a plate box touches the frame's left or right edge, so that some
 * of its characters may be outside the picture.
 *
 * @example Usage
 * ```ts
 * import { isCutByFrameEdge } from "./edge_cut.ts";
 * import assert from "node:assert/strict";
 * const frame = { width: 1280, height: 720 };
 * assert.equal(isCutByFrameEdge([0, 300, 60, 330], frame), true);
 * assert.equal(isCutByFrameEdge([600, 690, 700, 720], frame), false);
 * ```
 * @param box Plate box `[x1, y1, x2, y2]` in frame pixels.
 * @param frame Frame size in pixels.
 * @param options Margin.
 * @returns True when the box reaches the left or right margin.
 * @throws {RangeError} When `marginPx` is negative or not finite.
 */
export function isCutByFrameEdge(
  box: Box,
  frame: { width: number; height: number },
  options: IsCutByFrameEdgeOptions = {},
): boolean {
  const { marginPx = 2 } = options;
  if (!(marginPx >= 0 && Number.isFinite(marginPx))) {
    throw new RangeError(
      `Cannot check the frame edge as 'marginPx' must be a finite number >= 0: current value is ${marginPx}`,
    );
  }
  return box[0] <= marginPx || box[2] >= frame.width - marginPx;
}
