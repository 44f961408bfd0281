/**
 * Pairs plates with the vehicles that carry them. Pure.
 *
 * @module
 */
import type { Box, Detection } from "../shared/mod.ts";

/** COCO class ids of vehicles: car, motorcycle, bus, truck. */
export const VEHICLE_CLASS_IDS: readonly number[] = [2, 3, 5, 7];

/** A plate with its vehicle. */
export interface PlateOnVehicle {
  /** Plate box in frame pixels. */
  plateBox: Box;
  /** Plate detector score. */
  score: number;
  /** Vehicle box in frame pixels; the whole frame when no vehicle holds the plate. */
  carBox: Box;
  /** Whether `carBox` is a detected vehicle (false: whole frame). */
  carFound: boolean;
}

function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/**
 * Gives each plate the smallest vehicle box containing the plate's centre
 * (the innermost vehicle, so a car in front of a bus gets its own plate).
 * A plate on no detected vehicle (close-ups, night: the vehicle detector
 * misses those most) keeps the whole frame as its vehicle box, so it is
 * still read and reported.
 *
 * @example
 * ```ts
 * import { assignPlates } from "./assign.ts";
 * import assert from "node:assert/strict";
 * const out = assignPlates(
 *   [{ box: [40, 60, 60, 70], score: 0.9, classId: 0 }],
 *   [{ box: [0, 0, 100, 100], score: 0.8, classId: 2 }],
 *   { width: 200, height: 100 },
 * );
 * assert.deepEqual(out[0].carBox, [0, 0, 100, 100]);
 * ```
 * @param plates Plate detections.
 * @param vehicles Vehicle detections.
 * @param frame Frame size.
 * @returns One entry per plate, in input order.
 */
export function assignPlates(
  plates: readonly Detection[],
  vehicles: readonly Detection[],
  frame: { width: number; height: number },
): PlateOnVehicle[] {
  return plates.map((p) => {
    const cx = (p.box[0] + p.box[2]) / 2;
    const cy = (p.box[1] + p.box[3]) / 2;
    let best: Detection | null = null;
    for (const v of vehicles) {
      const inside = cx >= v.box[0] && cx <= v.box[2] && cy >= v.box[1] &&
        cy <= v.box[3];
      if (inside && (!best || area(v.box) < area(best.box))) best = v;
    }
    return {
      plateBox: p.box,
      score: p.score,
      carBox: best ? best.box : [0, 0, frame.width, frame.height],
      carFound: best !== null,
    };
  });
}
