/**
 * Which sampled frames are worth the detectors: a cheap difference on a small
 * grey copy of each frame, and a gate that skips frames that barely differ
 * from the last frame processed while nothing moves. Pure, no I/O,
 * deterministic: the decoder feeds frames in order, and after a restart it
 * feeds the same frames again from the first, so the same frames are
 * skipped.
 *
 * A frame is processed when:
 *
 * - it is the clip's first (`first`);
 * - some cell of its grey thumbnail differs from the same cell of the last
 *   processed frame by more than `cellDelta` grey levels (`moved`);
 * - fewer than `confirmFrames` frames of the present still scene were
 *   processed (`confirm`): the plate smoother reports a plate only when at
 *   least 2 reads agree (`smoothClip`'s `minReads`), so a still scene is read
 *   twice before its frames are skipped;
 * - `maxSkipped` frames in a row were skipped (`refresh`): the tracker keeps a
 *   track live while it is unseen for at most 10 sampled frames
 *   (`trackPlates`' `maxGapFrames`), so a parked car stays one track (one
 *   event) when the scene starts moving again.
 *
 * Otherwise it is skipped (`still`). The defaults come from measurement, see
 * {@linkcode FrameGateOptions.cellDelta}.
 *
 * @module
 */
import type { RgbImage } from "../shared/mod.ts";

/** A small grey copy of a frame: one mean luma byte per cell, row-major. */
export interface GreyThumb {
  /** Cells across. */
  width: number;
  /** Cells down. */
  height: number;
  /** Mean luma (BT.601, 0..255) of each cell. */
  data: Uint8Array;
}

/** Options for {@linkcode greyThumb}. */
export interface GreyThumbOptions {
  /**
   * Cells along the frame's longer side; the shorter side gets as many as
   * keep the cells square (at least 1). 64 cells make a 20 px cell at 720p
   * and a 60 px cell at 4K: smaller than the smallest vehicle whose plate is
   * readable, so such a vehicle moving changes whole cells.
   * @default {64}
   */
  cells?: number;
}

/**
 * Builds the grey thumbnail of an RGB frame: the frame is cut into square-ish
 * cells and each cell's mean luma (BT.601 weights, integer) is kept. About 36
 * pixels per cell are sampled on a regular grid, so the cost does not grow
 * with the frame size beyond reading those pixels (1-2 ms a frame at 720p
 * and at 4K on the 2-core development machine).
 *
 * @param image The frame (RGB, 3 bytes per pixel).
 * @param options Grid size.
 * @returns The thumbnail.
 * @throws {RangeError} When the image is empty or its data is too short.
 *
 * @example One cell per colour
 * ```ts
 * import { greyThumb } from "./frame_change.ts";
 * import assert from "node:assert/strict";
 * const data = new Uint8Array(4 * 2 * 3).fill(255);
 * const t = greyThumb({ width: 4, height: 2, data }, { cells: 2 });
 * assert.deepEqual([t.width, t.height, [...t.data]], [2, 1, [255, 255]]);
 * ```
 */
export function greyThumb(
  image: RgbImage,
  options: GreyThumbOptions = {},
): GreyThumb {
  const { cells = 64 } = options;
  const { width, height, data } = image;
  if (width < 1 || height < 1 || data.length < width * height * 3) {
    throw new RangeError(
      `Cannot make a grey thumbnail: image is ${width}x${height} with ${data.length} bytes`,
    );
  }
  const long = Math.max(width, height);
  const cellPx = Math.max(1, long / cells);
  const tw = Math.max(1, Math.min(width, Math.round(width / cellPx)));
  const th = Math.max(1, Math.min(height, Math.round(height / cellPx)));
  const out = new Uint8Array(tw * th);
  for (let cy = 0; cy < th; cy++) {
    const y0 = Math.floor((cy * height) / th);
    const y1 = Math.floor(((cy + 1) * height) / th);
    const sy = Math.max(1, Math.floor((y1 - y0) / 6));
    for (let cx = 0; cx < tw; cx++) {
      const x0 = Math.floor((cx * width) / tw);
      const x1 = Math.floor(((cx + 1) * width) / tw);
      const sx = Math.max(1, Math.floor((x1 - x0) / 6));
      let sum = 0;
      let n = 0;
      for (let y = y0 + (sy >> 1); y < y1; y += sy) {
        let p = (y * width + x0 + (sx >> 1)) * 3;
        for (let x = x0 + (sx >> 1); x < x1; x += sx, p += sx * 3) {
          sum += 77 * data[p] + 150 * data[p + 1] + 29 * data[p + 2];
          n++;
        }
      }
      out[cy * tw + cx] = n ? Math.round(sum / n / 256) : 0;
    }
  }
  return { width: tw, height: th, data: out };
}

/** How two thumbnails differ. */
export interface ThumbDifference {
  /** Largest absolute difference of one cell, in grey levels (255 when the grids differ). */
  maxDelta: number;
  /** Cells differing by more than the threshold asked for. */
  changedCells: number;
}

/**
 * Compares two thumbnails cell by cell.
 *
 * @param a One thumbnail.
 * @param b The other.
 * @param options `cellDelta`: a cell counts as changed above this many grey levels.
 * @returns The largest cell difference and the changed cells (every cell when the grids differ in size).
 *
 * @example
 * ```ts
 * import { thumbDifference } from "./frame_change.ts";
 * import assert from "node:assert/strict";
 * const a = { width: 2, height: 1, data: new Uint8Array([10, 10]) };
 * const b = { width: 2, height: 1, data: new Uint8Array([10, 40]) };
 * assert.deepEqual(thumbDifference(a, b, { cellDelta: 8 }), { maxDelta: 30, changedCells: 1 });
 * ```
 */
export function thumbDifference(
  a: GreyThumb,
  b: GreyThumb,
  options: { cellDelta: number },
): ThumbDifference {
  if (a.width !== b.width || a.height !== b.height) {
    return { maxDelta: 255, changedCells: Math.max(a.data.length, 1) };
  }
  let maxDelta = 0;
  let changedCells = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (d > maxDelta) maxDelta = d;
    if (d > options.cellDelta) changedCells++;
  }
  return { maxDelta, changedCells };
}

/** Options for {@linkcode gateFrame}. */
export interface FrameGateOptions {
  /**
   * A cell differing from the last processed frame by more than this many
   * grey levels means the picture changed. Only a picture unchanged up to the
   * codec's noise may be skipped, because the plate detector flips on a
   * borderline plate with changes of a few levels: in
   * `cases/thumbnail_stream_first` it finds RK15YUH at the frame's edge in
   * frames 8 and 10 but not 9, and frame 8 differs from frame 7 by at most 5
   * levels per cell; with those 2 reads the smoother reports it, with one it
   * does not. Measured with `deno run -A test/bench/frame_change_measure.ts`
   * (largest cell difference between consecutive 5 fps frames): two stills
   * looped into H.264 (CRF 23) differ by at most 1; the parked stretch of
   * `uk_dashcam_junction.mp4` by 2; ffmpeg's temporal noise
   * (`noise=alls=12:allf=t`, a noisy sensor) gives 4-5, and frames where
   * something moves 5 to 200. 3 passes the codec's noise and nothing more:
   * a noisy sensor is processed like motion (recall first), and a slow
   * change adds up against the last processed frame until it passes.
   * @default {3}
   */
  cellDelta?: number;
  /**
   * Frames of a still scene processed before its frames are skipped (the
   * smoother's `minReads`).
   * @default {2}
   */
  confirmFrames?: number;
  /**
   * Most frames skipped in a row (the tracker's `maxGapFrames`).
   * @default {10}
   */
  maxSkipped?: number;
}

/** What the gate remembers between frames of one clip. */
export interface FrameGateState {
  /** Thumbnail of the last processed frame. */
  reference: GreyThumb;
  /** Frames processed since the scene last moved (the moving frame included). */
  stillProcessed: number;
  /** Frames skipped since the last processed one. */
  skipped: number;
}

/** Why a frame is processed or skipped. */
export type FrameGateReason =
  | "first"
  | "moved"
  | "confirm"
  | "refresh"
  | "still";

/** The gate's decision on one frame. */
export interface FrameGateDecision {
  /** Whether the detectors run on the frame. */
  process: boolean;
  /** Why. */
  reason: FrameGateReason;
  /** State to pass with the next frame. */
  state: FrameGateState;
}

/**
 * Decides whether a frame goes to the detectors (see the module doc for the
 * rules).
 *
 * @param state The state the previous frame left, or null for a clip's first frame.
 * @param thumb The frame's grey thumbnail ({@linkcode greyThumb}).
 * @param options Thresholds.
 * @returns The decision and the next state.
 *
 * @example A still scene is read twice, then skipped
 * ```ts
 * import { gateFrame } from "./frame_change.ts";
 * import assert from "node:assert/strict";
 * const still = { width: 1, height: 1, data: new Uint8Array([90]) };
 * let state = null;
 * const reasons = [];
 * for (let i = 0; i < 4; i++) {
 *   const d = gateFrame(state, still);
 *   state = d.state;
 *   reasons.push(d.reason);
 * }
 * assert.deepEqual(reasons, ["first", "confirm", "still", "still"]);
 * ```
 */
export function gateFrame(
  state: FrameGateState | null,
  thumb: GreyThumb,
  options: FrameGateOptions = {},
): FrameGateDecision {
  const { cellDelta = 3, confirmFrames = 2, maxSkipped = 10 } = options;
  if (state === null) {
    return {
      process: true,
      reason: "first",
      state: { reference: thumb, stillProcessed: 1, skipped: 0 },
    };
  }
  const diff = thumbDifference(state.reference, thumb, { cellDelta });
  if (diff.changedCells > 0) {
    return {
      process: true,
      reason: "moved",
      state: { reference: thumb, stillProcessed: 1, skipped: 0 },
    };
  }
  if (state.stillProcessed < confirmFrames) {
    return {
      process: true,
      reason: "confirm",
      state: {
        reference: thumb,
        stillProcessed: state.stillProcessed + 1,
        skipped: 0,
      },
    };
  }
  if (state.skipped >= maxSkipped) {
    return {
      process: true,
      reason: "refresh",
      state: {
        reference: thumb,
        stillProcessed: state.stillProcessed + 1,
        skipped: 0,
      },
    };
  }
  return {
    process: false,
    reason: "still",
    state: { ...state, skipped: state.skipped + 1 },
  };
}
