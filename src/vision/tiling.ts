/**
 * Where to look again for small plates in large frames. Pure, no I/O.
 *
 * The plate detector sees the whole frame at 416 px on its long side: a 3840x2160 frame is
 * shrunk 9.2 times, so a plate 100 px wide becomes 11 px and is often lost.
 * The second pass runs the detector again on the vehicles the whole-frame
 * pass found without a plate, each crop enlarged to the detector's input, but
 * only where the vehicle's plate is too small at whole-frame scale and big
 * enough in the source to be read.
 *
 * Measured (`deno task bench small-plates`, figures in the README): the
 * whole-frame pass reads plates of about 30 px or more on the detector's
 * input (110 px at 720p, not 110 px at 1080p and above). Vehicle crops cost
 * 1.0-1.4 detector calls per frame and read 80 px plates at 720p (from
 * 110), while a tile grid costs 3 (1080p), 7 (1440p) and 9 (2160p) calls
 * per frame and reads 110 px plates at 1080p and 2160p where crops read
 * some; crops stop where the vehicle detector (512 px input) misses the
 * vehicle. Crops are the default for their cost; tiles stay selectable
 * (`findPlates`' `secondPass`).
 *
 * @module
 */

import type { Box, Detection } from "../shared/mod.ts";

/** Options for {@linkcode planPlateCrops}. */
export interface PlanPlateCropsOptions {
  /**
   * Long side of the plate detector's input, in pixels.
   * @default {416}
   */
  detectorSize?: number;
  /**
   * Vehicles whose expected plate is narrower than this on the detector's
   * input get a second look. Measured: on `cases/uhd_small_plate` plates of
   * 9-11 input pixels were found in about 60 % of the frames; on the
   * composited stills of the small-plates bench 24 px plates rarely, 36 px
   * always. 16 keeps the extra calls on 720p and 1080p clips low (1.0-1.4
   * per frame).
   * @default {16}
   */
  minPlateInputWidth?: number;
  /**
   * Expected plate width as a fraction of its vehicle box's width (a car is
   * about 1.8 m wide, an EU plate 0.52 m, a US plate 0.30 m, and the box
   * also holds some of the car's side).
   * @default {0.2}
   */
  plateToVehicleWidth?: number;
  /**
   * Vehicles narrower than this (source pixels) are skipped: their plate
   * (`plateToVehicleWidth` of it, about 26 px) is too small for the OCR.
   * @default {128}
   */
  minVehicleWidth?: number;
  /**
   * At most this many crops per frame, widest vehicles first.
   * @default {4}
   */
  maxCrops?: number;
  /**
   * Padding added to each side of the vehicle box, as a fraction of its size
   * (plates sit at the box's lower edge, which the detector often cuts).
   * @default {0.08}
   */
  padFraction?: number;
}

function width(b: Box): number {
  return b[2] - b[0];
}

function containsCentre(outer: Box, inner: Box): boolean {
  const cx = (inner[0] + inner[2]) / 2;
  const cy = (inner[1] + inner[3]) / 2;
  return cx >= outer[0] && cx <= outer[2] && cy >= outer[1] && cy <= outer[3];
}

/**
 * The vehicle crops (source pixels, integer, clamped to the frame) on which
 * to run the plate detector a second time: vehicles that hold no plate
 * centre from the whole-frame pass, are at least `minVehicleWidth` wide, and
 * whose expected plate (`plateToVehicleWidth` of their width) is narrower
 * than `minPlateInputWidth` at whole-frame scale. A frame the detector sees
 * at full size or larger gets no crops.
 *
 * @example A 4K frame: one car without a plate gets a second look
 * ```ts
 * import { planPlateCrops } from "./tiling.ts";
 * import assert from "node:assert/strict";
 * const crops = planPlateCrops({ width: 3840, height: 2160 }, {
 *   vehicles: [
 *     { box: [3000, 1730, 3300, 1950], score: 0.8, classId: 2 },
 *     { box: [3310, 1700, 3640, 1930], score: 0.8, classId: 2 },
 *   ],
 *   plates: [{ box: [3508, 1830, 3612, 1870], score: 0.4, classId: 0 }],
 * });
 * assert.deepEqual(crops, [[2976, 1712, 3324, 1968]]);
 * ```
 * @param frame Frame size in pixels.
 * @param found The whole-frame pass: vehicles and plates.
 * @param options Detector size and thresholds.
 * @returns Crop boxes, widest vehicle first.
 * @throws {RangeError} When a size or fraction option is not positive.
 */
export function planPlateCrops(
  frame: { width: number; height: number },
  found: { vehicles: readonly Detection[]; plates: readonly Detection[] },
  options: PlanPlateCropsOptions = {},
): Box[] {
  const {
    detectorSize = 416,
    minPlateInputWidth = 16,
    plateToVehicleWidth = 0.2,
    minVehicleWidth = 128,
    maxCrops = 4,
    padFraction = 0.08,
  } = options;
  for (
    const [name, v] of [
      ["detectorSize", detectorSize],
      ["minPlateInputWidth", minPlateInputWidth],
      ["plateToVehicleWidth", plateToVehicleWidth],
    ] as const
  ) {
    if (!(v > 0 && Number.isFinite(v))) {
      throw new RangeError(
        `Cannot plan plate crops as '${name}' must be a number > 0: current value is ${v}`,
      );
    }
  }
  if (!(padFraction >= 0) || !Number.isInteger(maxCrops) || maxCrops < 0) {
    throw new RangeError(
      `Cannot plan plate crops as 'padFraction' must be >= 0 and 'maxCrops' an integer >= 0: current values are ${padFraction} and ${maxCrops}`,
    );
  }
  const scale = detectorSize / Math.max(frame.width, frame.height);
  if (scale >= 1) return [];
  const candidates = found.vehicles
    .filter((v) => width(v.box) >= minVehicleWidth)
    .filter((v) =>
      width(v.box) * plateToVehicleWidth * scale < minPlateInputWidth
    )
    .filter((v) => !found.plates.some((p) => containsCentre(v.box, p.box)))
    .sort((a, b) => width(b.box) - width(a.box));
  const crops: Box[] = [];
  for (const v of candidates) {
    if (crops.length >= maxCrops) break;
    // A crop inside one already planned is searched by it.
    if (
      crops.some((c) => containsCentre(c, v.box) && width(c) >= width(v.box))
    ) {
      continue;
    }
    const padX = width(v.box) * padFraction;
    const padY = (v.box[3] - v.box[1]) * padFraction;
    crops.push([
      Math.max(0, Math.floor(v.box[0] - padX)),
      Math.max(0, Math.floor(v.box[1] - padY)),
      Math.min(frame.width, Math.ceil(v.box[2] + padX)),
      Math.min(frame.height, Math.ceil(v.box[3] + padY)),
    ]);
  }
  return crops;
}

/** Options for {@linkcode planTiles}. */
export interface PlanTilesOptions {
  /**
   * Largest tile side in pixels: the detector sees a 1280 px tile as it sees
   * a whole 720p frame.
   * @default {1280}
   */
  tileSize?: number;
  /**
   * Overlap of neighbouring tiles, as a fraction of the tile side, so a
   * plate on a seam is whole in one tile.
   * @default {0.1}
   */
  overlap?: number;
}

/**
 * A grid of overlapping tiles covering the frame, each at most `tileSize`
 * on a side; none for frames that fit one tile. The alternative to vehicle
 * crops that `deno task bench small-plates` measures.
 *
 * @example Usage
 * ```ts
 * import { planTiles } from "./tiling.ts";
 * import assert from "node:assert/strict";
 * assert.equal(planTiles({ width: 3840, height: 2160 }).length, 8);
 * assert.equal(planTiles({ width: 1280, height: 720 }).length, 0);
 * ```
 * @param frame Frame size in pixels.
 * @param options Tile size and overlap.
 * @returns Tile boxes, row by row.
 * @throws {RangeError} When `tileSize` < 32 or `overlap` is not in 0..0.5.
 */
export function planTiles(
  frame: { width: number; height: number },
  options: PlanTilesOptions = {},
): Box[] {
  const { tileSize = 1280, overlap = 0.1 } = options;
  if (!(tileSize >= 32) || !(overlap >= 0 && overlap <= 0.5)) {
    throw new RangeError(
      `Cannot plan tiles as 'tileSize' must be >= 32 and 'overlap' in 0..0.5: current values are ${tileSize} and ${overlap}`,
    );
  }
  if (frame.width <= tileSize && frame.height <= tileSize) return [];
  const axis = (length: number): Array<[number, number]> => {
    if (length <= tileSize) return [[0, length]];
    const step = tileSize * (1 - overlap);
    const n = Math.ceil((length - tileSize) / step) + 1;
    const stride = (length - tileSize) / (n - 1);
    return Array.from({ length: n }, (_, i) => {
      const start = Math.round(i * stride);
      return [start, Math.min(length, start + tileSize)];
    });
  };
  const tiles: Box[] = [];
  for (const [y1, y2] of axis(frame.height)) {
    for (const [x1, x2] of axis(frame.width)) tiles.push([x1, y1, x2, y2]);
  }
  return tiles;
}

/**
 * Moves boxes found in a crop back to frame pixels.
 *
 * @example Usage
 * ```ts
 * import { fromCrop } from "./tiling.ts";
 * import assert from "node:assert/strict";
 * const [d] = fromCrop([{ box: [1, 2, 3, 4], score: 1, classId: 0 }], [10, 20, 50, 60]);
 * assert.deepEqual(d.box, [11, 22, 13, 24]);
 * ```
 * @param dets Detections in crop pixels.
 * @param crop The crop box in frame pixels.
 * @returns New detections in frame pixels.
 */
export function fromCrop(dets: readonly Detection[], crop: Box): Detection[] {
  return dets.map((d) => ({
    ...d,
    box: [
      d.box[0] + crop[0],
      d.box[1] + crop[1],
      d.box[2] + crop[0],
      d.box[3] + crop[1],
    ],
  }));
}
