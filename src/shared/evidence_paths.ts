/**
 * Where an event's pictures live in the data dir. Pure; a leaf.
 * The plate crop is `evidence/<video_id>/<track_id>.png` (written by the
 * summary stage); the vehicle crop, when one was made, is the same name
 * with `_vehicle.jpg`.
 *
 * @module
 */

/**
 * The vehicle crop's path beside a plate crop's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(vehicleCropPath("evidence/abc/3.png"), "evidence/abc/3_vehicle.jpg");
 * ```
 * @param platePath The plate crop, relative to the data dir.
 * @returns The vehicle crop's path, relative to the data dir.
 */
export function vehicleCropPath(platePath: string): string {
  return platePath.replace(/\.[a-z]+$/i, "") + "_vehicle.jpg";
}
