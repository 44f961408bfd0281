/**
 * How long a reported vehicle stays in view, from the vehicle detector's
 * boxes of the frames around its plate reads. Pure, no I/O.
 *
 * A track's plate reads can stop long before its vehicle leaves: OCR skips
 * a settled plate, the plate detector skips frames a settled track holds,
 * and a plate at the frame's side or in low light is found only now and
 * then, near the detector's score threshold. The span of the reads alone
 * then says the vehicle left mid-clip, and a vehicle in view across a
 * segment cut is reported once per segment (`graph/segment_chain.ts` joins
 * only tracks that reach the cut). So the vehicle's box is followed, frame
 * by frame, back from the earliest read with a detected vehicle and on from
 * the latest: in each frame the box with the greatest IoU (at least
 * `minIou`, the rule of `online_tracks.ts`) with the box of the frame before,
 * until `maxMissedFrames` processed frames in a row have none. Frames the
 * frame-change gate left out (nothing moved) are not in the list and do not
 * count as missed.
 *
 * @module
 */
import type { Box } from "../shared/mod.ts";
import { iou } from "./nms.ts";

/** The vehicles the vehicle detector found in one processed frame. */
export interface FrameVehicles {
  /** Sampled frame index. */
  frameIdx: number;
  /** Vehicle boxes in frame pixels. */
  boxes: readonly Box[];
}

/** One plate read of a track: its frame, and its vehicle's box when one was detected. */
export interface SpanRead {
  /** Sampled frame index. */
  frameIdx: number;
  /** The detected vehicle holding the plate, or null when none was. */
  carBox: Box | null;
}

/** Options for {@linkcode vehicleSpan}. */
export interface VehicleSpanOptions {
  /**
   * Processed frames in a row without the vehicle after which it has left
   * (2 s at 5 fps, as the plate tracks' gap).
   * @default {10}
   */
  maxMissedFrames?: number;
  /**
   * Least IoU of the vehicle's box with its box in the frame before.
   * @default {0.5}
   */
  minIou?: number;
}

/**
 * The first and last sampled frame where a track's vehicle is in view: the
 * span of its reads, widened by following its vehicle box (see the module
 * documentation).
 *
 * @example A car read only at frame 8 stays in view until frame 28
 * ```ts
 * import assert from "node:assert/strict";
 * import { vehicleSpan } from "./vehicle_span.ts";
 * const car = [0, 340, 410, 620] as [number, number, number, number];
 * const frames = [5, 8, 12, 20, 28].map((frameIdx) => ({ frameIdx, boxes: [car] }));
 * assert.deepEqual(vehicleSpan([{ frameIdx: 8, carBox: car }], frames), { firstFrame: 5, lastFrame: 28 });
 * ```
 * @param reads The track's reads (at least one).
 * @param frames The clip's processed frames with their vehicles, any order.
 * @param options Missed frames and IoU.
 * @returns The span in sampled frames, both ends included.
 * @throws {RangeError} When `reads` is empty.
 */
export function vehicleSpan(
  reads: readonly SpanRead[],
  frames: readonly FrameVehicles[],
  options: VehicleSpanOptions = {},
): { firstFrame: number; lastFrame: number } {
  if (reads.length === 0) {
    throw new RangeError("Cannot find a vehicle's span: the track has no read");
  }
  const { maxMissedFrames = 10, minIou = 0.5 } = options;
  let firstFrame = Math.min(...reads.map((r) => r.frameIdx));
  let lastFrame = Math.max(...reads.map((r) => r.frameIdx));
  const seen = reads.filter((r) => r.carBox !== null)
    .sort((a, b) => a.frameIdx - b.frameIdx);
  if (seen.length === 0) return { firstFrame, lastFrame };
  const follow = (from: SpanRead, walk: readonly FrameVehicles[]) => {
    let box = from.carBox as Box;
    let at = from.frameIdx;
    let missed = 0;
    for (const frame of walk) {
      let best: Box | null = null;
      let bestIou = minIou;
      for (const b of frame.boxes) {
        const o = iou(b, box);
        if (o >= bestIou) [best, bestIou] = [b, o];
      }
      if (best !== null) {
        [box, at, missed] = [best, frame.frameIdx, 0];
      } else if (++missed > maxMissedFrames) break;
    }
    return at;
  };
  const first = seen[0];
  const last = seen[seen.length - 1];
  const sorted = [...frames].sort((a, b) => a.frameIdx - b.frameIdx);
  firstFrame = Math.min(
    firstFrame,
    follow(first, sorted.filter((f) => f.frameIdx < first.frameIdx).reverse()),
  );
  lastFrame = Math.max(
    lastFrame,
    follow(last, sorted.filter((f) => f.frameIdx > last.frameIdx)),
  );
  return { firstFrame, lastFrame };
}
