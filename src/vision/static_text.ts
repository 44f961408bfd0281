/**
 * Text burned into the video by the recorder (time, speed, GPS, device name,
 * sometimes a plate-like label in a box): the same pixels in every frame
 * while the scene moves, on no vehicle. Pure, no I/O.
 *
 * Two measurements decide:
 *
 * - **The scene moves**: every frame gets a tiny luminance signature (the
 *   frame shrunk to 16x9); the scene moves when at least `minMovingShare` of
 *   consecutive sampled frames differ by a mean of more than
 *   `minMeanDifference` grey levels. A burned label is a few hundred pixels
 *   of a frame and barely changes the signature.
 * - **The text stands still**: a track whose plate box never strays from its
 *   median box by more than `maxShiftFraction` of the box height (at least
 *   1 px), over at least `minFrames` frames, and that is on no detected
 *   vehicle in at least `minOffVehicleShare` of them.
 *
 * A plate that stands still in a scene that stands still (a parked car seen
 * by a parked camera) is a real plate and is kept.
 *
 * @module
 */

import type { Box, RgbImage } from "../shared/mod.ts";
import { resizeBilinear } from "./image_ops.ts";

/** Width and height of a frame signature. */
const SIGNATURE_SIZE = { width: 16, height: 9 };

/**
 * A frame's signature: the frame shrunk to 16x9 (bilinear), as 144 grey
 * levels (0-255, Rec. 601 luma, rounded), row by row.
 *
 * @example Usage
 * ```ts
 * import { frameSignature } from "./static_text.ts";
 * import assert from "node:assert/strict";
 * const img = { width: 32, height: 18, data: new Uint8Array(32 * 18 * 3).fill(100) };
 * assert.deepEqual(frameSignature(img), new Array(144).fill(100));
 * ```
 * @param img The frame.
 * @returns 144 grey levels.
 */
export function frameSignature(img: RgbImage): number[] {
  const small = resizeBilinear(img, SIGNATURE_SIZE);
  const out: number[] = [];
  for (let i = 0; i < small.data.length; i += 3) {
    out.push(
      Math.round(
        0.299 * small.data[i] + 0.587 * small.data[i + 1] +
          0.114 * small.data[i + 2],
      ),
    );
  }
  return out;
}

/** Options for {@linkcode sceneMoves}. */
export interface SceneMovesOptions {
  /**
   * Two consecutive frames differ when their signatures' mean absolute
   * difference is above this (grey levels). Measured on the media clips at
   * 5 fps: a dashcam stopped at a red light (`uk_dashcam_junction`) has a
   * median of 0.9 and 14 % of its pairs above 3; driving
   * (`us_dashcam_dusk_no_readable_plates`) a median of 6.1 and 78 %; a
   * hand-held camera (`Video47_2`) 7.9 and 93 %.
   * @default {3}
   */
  minMeanDifference?: number;
  /**
   * The scene moves when at least this share of consecutive pairs differ.
   * @default {0.3}
   */
  minMovingShare?: number;
}

/**
 * Whether the scene of a clip moves, from the signatures of its sampled
 * frames (see the module documentation). Fewer than 2 frames: false.
 *
 * @example Usage
 * ```ts
 * import { sceneMoves } from "./static_text.ts";
 * import assert from "node:assert/strict";
 * const still = new Array(144).fill(50);
 * assert.equal(sceneMoves([[0, still], [1, still], [2, still]]), false);
 * assert.equal(sceneMoves([[0, still], [1, new Array(144).fill(90)], [2, still]]), true);
 * ```
 * @param frames `[frameIdx, signature]` pairs, in any order.
 * @param options Thresholds.
 * @returns True when the scene moves.
 */
export function sceneMoves(
  frames: ReadonlyArray<readonly [number, readonly number[]]>,
  options: SceneMovesOptions = {},
): boolean {
  const { minMeanDifference = 3, minMovingShare = 0.3 } = options;
  const sorted = [...frames].sort((a, b) => a[0] - b[0]);
  let pairs = 0;
  let moving = 0;
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1][1];
    const b = sorted[i][1];
    if (a.length === 0 || a.length !== b.length) continue;
    let sum = 0;
    for (let k = 0; k < a.length; k++) sum += Math.abs(a[k] - b[k]);
    pairs++;
    if (sum / a.length > minMeanDifference) moving++;
  }
  return pairs > 0 && moving / pairs >= minMovingShare;
}

/** One observation of a track, as {@linkcode isStaticText} needs it. */
export interface StaticTextObservation {
  /** Plate box in frame pixels. */
  plateBox: Box;
  /** Whether a detected vehicle holds the plate. */
  carFound: boolean;
}

/** Options for {@linkcode isStaticText}. */
export interface IsStaticTextOptions {
  /**
   * Fewest observations (5 sampled frames are 1 s at the default 5 fps).
   * @default {5}
   */
  minFrames?: number;
  /**
   * Largest distance of any box edge from the median box's, as a fraction
   * of the median box height (at least 1 px).
   * @default {0.1}
   */
  maxShiftFraction?: number;
  /**
   * Least share of observations on no detected vehicle.
   * @default {0.8}
   */
  minOffVehicleShare?: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Whether a track is text that stands still on no vehicle (see the module
 * documentation); only call it for clips whose scene moves.
 *
 * @example Usage
 * ```ts
 * import { isStaticText } from "./static_text.ts";
 * import assert from "node:assert/strict";
 * const label = Array.from({ length: 6 }, () => ({
 *   plateBox: [1000, 650, 1180, 690] as [number, number, number, number],
 *   carFound: false,
 * }));
 * assert.equal(isStaticText(label), true);
 * ```
 * @param track The track's observations.
 * @param options Thresholds.
 * @returns True for burned-in text.
 */
export function isStaticText(
  track: readonly StaticTextObservation[],
  options: IsStaticTextOptions = {},
): boolean {
  const {
    minFrames = 5,
    maxShiftFraction = 0.1,
    minOffVehicleShare = 0.8,
  } = options;
  if (track.length < minFrames) return false;
  const off = track.filter((o) => !o.carFound).length;
  if (off / track.length < minOffVehicleShare) return false;
  const med = [0, 1, 2, 3].map((k) => median(track.map((o) => o.plateBox[k])));
  const tolerance = Math.max(1, (med[3] - med[1]) * maxShiftFraction);
  return track.every((o) =>
    o.plateBox.every((v, k) => Math.abs(v - med[k]) <= tolerance)
  );
}
