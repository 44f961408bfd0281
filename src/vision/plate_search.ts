/**
 * Finds the plates of one frame: the plate detector on the whole frame, a
 * second pass on enlarged vehicle crops where the first pass cannot see a
 * plate at a readable size (`tiling.ts`), duplicate boxes removed
 * (`plate_dedupe.ts`). The clip stages and `read` both call it, so photos
 * and clip frames get the same plates.
 *
 * @module
 */

import type { Detection, RgbImage } from "../shared/mod.ts";
import { cropImage } from "./image_ops.ts";
import type { Detector } from "./models.ts";
import { dedupePlates } from "./plate_dedupe.ts";
import {
  fromCrop,
  planPlateCrops,
  type PlanPlateCropsOptions,
  planTiles,
} from "./tiling.ts";

/** What {@linkcode findPlates} needs of a detector. */
export type PlateDetector = Pick<Detector, "detect" | "inputSize">;

/** Options for {@linkcode findPlates}. */
export interface FindPlatesOptions {
  /**
   * Vehicles found in the same frame (source pixels); a promise lets the
   * vehicle detector run (in a worker) while the whole-frame pass runs here.
   */
  vehicles: readonly Detection[] | Promise<readonly Detection[]>;
  /** Second-pass thresholds. @default {planPlateCrops' defaults} */
  crops?: PlanPlateCropsOptions;
  /**
   * The second pass: enlarged crops of plate-less vehicles (`"crops"`), a
   * grid of tiles over the whole frame (`"tiles"`, measured against crops
   * by `deno task bench small-plates`), or none.
   * @default {"crops"}
   */
  secondPass?: "crops" | "tiles" | "none";
}

/** The plates of one frame. */
export interface FoundPlates {
  /** Plate boxes in frame pixels, one per plate, highest score first. */
  plates: Detection[];
  /** Detector calls of the second pass (0 on most frames up to 1080p). */
  secondPassCalls: number;
}

/**
 * Finds the plates of a frame (see the module documentation).
 *
 * @param detector The plate detector.
 * @param img The frame.
 * @param options The frame's vehicles and second-pass thresholds.
 * @returns The plates and the number of second-pass calls.
 * @throws {RangeError} When a second-pass option is out of range.
 */
export async function findPlates(
  detector: PlateDetector,
  img: RgbImage,
  options: FindPlatesOptions,
): Promise<FoundPlates> {
  const whole = await detector.detect(img);
  const vehicles = await options.vehicles;
  const input = detector.inputSize(img);
  const detectorSize = Math.max(input.width, input.height);
  const { secondPass = "crops" } = options;
  const crops = secondPass === "crops"
    ? planPlateCrops(img, { vehicles, plates: whole }, {
      detectorSize,
      ...options.crops,
    })
    : secondPass === "tiles"
    ? planTiles(img)
    : [];
  const found = [...whole];
  for (const crop of crops) {
    const { image, box } = cropImage(img, crop);
    found.push(...fromCrop(await detector.detect(image), box));
  }
  return { plates: dedupePlates(found), secondPassCalls: crops.length };
}
