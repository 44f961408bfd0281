/**
 * Plates cut off by the frame's left or right edge. Pure, no I/O.
 *
 * A plate entering or leaving the picture sideways shows only some of its
 * characters, and the OCR reads the rest as a shorter plate (`24LSB` for
 * `24LSB1`), which would become an event of its own. A plate cut at the top
 * or bottom edge still shows every character, so only the sides count. A
 * plate that merely touches the edge may still be whole (`B201TXM` in
 * `nightride_type3_001_t0358.jpg` starts at x = 0 and is read in full), so a
 * read at the edge is dropped only when it does not look whole: it fits no
 * listed format of its region, or (in regions without formats) it is
 * shorter than `minFreeFormLength`.
 *
 * @module
 */

import type { Box } from "../shared/mod.ts";
import { type FormattedPlateRead, PLATE_FORMATS } from "./plate_format.ts";

/** Options for {@linkcode isAtFrameEdge}. */
export interface IsAtFrameEdgeOptions {
  /**
   * A box within this many source pixels of the left or right edge counts.
   * The plate detector's box of a cut plate often stops short of the edge
   * (4.8 px of a 384 px wide frame for `XS-NB-23` cut after its `X`, box
   * 63 px high), while a whole plate keeps its border (`RK15 YUH` 14.5 px
   * from the edge in `uk_dashcam_junction.mp4`, box 40 px high), and boxes
   * are only as precise as one pixel of the detector's 416 px input: the
   * default is a quarter of the box's height, at least 2 px plus one input
   * pixel (5 px at 1280 wide, 11 px at 3840).
   * @default {max(box height / 4, 2 + frame.width / 416)}
   */
  marginPx?: number;
}

/**
 * Whether a plate box reaches the frame's left or right edge, so that some
 * of its characters may be outside the picture.
 *
 * @example Usage
 * ```ts
 * import { isAtFrameEdge } from "./edge_cut.ts";
 * import assert from "node:assert/strict";
 * const frame = { width: 1280, height: 720 };
 * assert.equal(isAtFrameEdge([0, 300, 60, 330], frame), true);
 * assert.equal(isAtFrameEdge([600, 690, 700, 720], frame), false);
 * ```
 * @param box Plate box `[x1, y1, x2, y2]` in frame pixels.
 * @param frame Frame size in pixels.
 * @param options Margin.
 * @returns True when the box reaches the left or right margin.
 * @throws {RangeError} When `marginPx` is negative or not finite.
 */
export function isAtFrameEdge(
  box: Box,
  frame: { width: number; height: number },
  options: IsAtFrameEdgeOptions = {},
): boolean {
  const {
    marginPx = Math.max((box[3] - box[1]) / 4, 2 + frame.width / 416),
  } = options;
  if (!(marginPx >= 0 && Number.isFinite(marginPx))) {
    throw new RangeError(
      `Cannot check the frame edge as 'marginPx' must be a finite number >= 0: current value is ${marginPx}`,
    );
  }
  return box[0] <= marginPx || box[2] >= frame.width - marginPx;
}

/** Options for {@linkcode looksWhole}. */
export interface LooksWholeOptions {
  /**
   * In a region without listed formats (United States, Canada), a read at
   * the edge needs at least this many characters (standard series there
   * have 6-7).
   * @default {6}
   */
  minFreeFormLength?: number;
  /**
   * The read's region counts only when its probability is at least this,
   * as in `applyFormatRules`.
   * @default {0.5}
   */
  minRegionProb?: number;
}

/**
 * Whether a read (after `applyFormatRules`) of a plate at the frame edge
 * shows a whole plate: it fits a listed format (`formatted` is set), or its
 * region is confidently one without formats and it is long enough.
 *
 * @example Usage
 * ```ts
 * import { looksWhole } from "./edge_cut.ts";
 * import assert from "node:assert/strict";
 * assert.equal(looksWhole({ text: "24LSB", confidence: 1, charProbs: [] }), false);
 * assert.equal(looksWhole({ text: "24LSB1", confidence: 1, charProbs: [], formatted: "24-LSB-1" }), true);
 * ```
 * @param read The formatted read.
 * @param options Length and region thresholds.
 * @returns True when the read can be reported.
 */
export function looksWhole(
  read: FormattedPlateRead,
  options: LooksWholeOptions = {},
): boolean {
  const { minFreeFormLength = 6, minRegionProb = 0.5 } = options;
  if (read.formatted !== undefined) return true;
  const region = read.region;
  const freeForm = region !== undefined &&
    (read.regionProb ?? 0) >= minRegionProb &&
    Object.hasOwn(PLATE_FORMATS, region) && PLATE_FORMATS[region].freeForm;
  return freeForm && read.text.length >= minFreeFormLength;
}
