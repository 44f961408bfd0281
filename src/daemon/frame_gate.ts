/**
 * The decoder's frame gate: whether a decoded frame goes to the detectors or
 * is skipped because it barely differs from the last frame processed (see
 * `src/vision/frame_change.ts` for the rule and its measured threshold).
 * One gate per clip, fed every decoded frame in order, including frames
 * already processed before a restart: the decisions are then the same as in
 * the first run.
 *
 * @module
 */
import { decodePpm } from "../shared/mod.ts";
import {
  type FrameGateReason,
  type FrameGateState,
  gateFrame,
  greyThumb,
} from "../vision/mod.ts";

/** A clip's frame gate. */
export interface FrameGate {
  /**
   * Decides on the next decoded frame.
   *
   * @param ppm The frame as a binary PPM file.
   * @returns Whether the detectors run on it, and why.
   */
  next(ppm: Uint8Array): { process: boolean; reason: FrameGateReason };
  /** Frames skipped so far. */
  readonly skipped: number;
}

/**
 * Creates the gate of one clip.
 *
 * @param options `enabled`: false processes every frame (config `skipping.enabled`).
 * @returns The gate.
 */
export function createFrameGate(options: { enabled: boolean }): FrameGate {
  let state: FrameGateState | null = null;
  let skipped = 0;
  return {
    next(ppm) {
      if (!options.enabled) return { process: true, reason: "first" };
      const decision = gateFrame(state, greyThumb(decodePpm(ppm)));
      state = decision.state;
      if (!decision.process) skipped++;
      return { process: decision.process, reason: decision.reason };
    },
    get skipped() {
      return skipped;
    },
  };
}
