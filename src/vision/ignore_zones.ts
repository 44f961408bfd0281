/**
 * Ignore zones (the cameras' `ignore_zones` setting, checked by
 * `config/ignore_zones.ts`): whether a plate lies in one. Pure, no I/O.
 *
 * @module
 */

import type { IgnoreZone } from "../config/mod.ts";
import type { Box } from "../shared/mod.ts";

/** Ray casting: whether `[x, y]` lies inside the polygon (edges count as inside only by chance). */
function insidePolygon(x: number, y: number, polygon: IgnoreZone): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

/**
 * Whether a plate box's centre lies in one of the zones.
 *
 * @example Usage
 * ```ts
 * import { inIgnoreZone } from "./ignore_zones.ts";
 * import assert from "node:assert/strict";
 * const zones = [[[0.7, 0.9], [1, 0.9], [1, 1], [0.7, 1]]] as Array<Array<[number, number]>>;
 * const frame = { width: 1280, height: 720 };
 * assert.equal(inIgnoreZone([1000, 660, 1200, 700], frame, zones), true);
 * assert.equal(inIgnoreZone([500, 400, 600, 430], frame, zones), false);
 * ```
 * @param box Plate box in frame pixels.
 * @param frame Frame size in pixels.
 * @param zones Polygons in relative coordinates.
 * @returns True when the centre is in a zone.
 */
export function inIgnoreZone(
  box: Box,
  frame: { width: number; height: number },
  zones: readonly IgnoreZone[],
): boolean {
  const x = (box[0] + box[2]) / 2 / frame.width;
  const y = (box[1] + box[3]) / 2 / frame.height;
  return zones.some((z) => insidePolygon(x, y, z));
}

/**
 * A camera's zones: its own `ignore_zones` and those of `default`.
 *
 * @example Usage
 * ```ts
 * import { zonesOfCamera } from "./ignore_zones.ts";
 * import assert from "node:assert/strict";
 * const z = [[0, 0], [1, 0], [0, 1]] as Array<[number, number]>;
 * assert.equal(zonesOfCamera({ default: { ignore_zones: [z] }, front: { ignore_zones: [z] } }, "front").length, 2);
 * assert.equal(zonesOfCamera({}, "front").length, 0);
 * ```
 * @param cameras The `cameras` config section.
 * @param cameraId The clip's camera id, if known.
 * @returns The polygons.
 */
export function zonesOfCamera(
  cameras: Readonly<Record<string, { ignore_zones?: IgnoreZone[] }>>,
  cameraId: string | null,
): IgnoreZone[] {
  const own = cameraId !== null && cameraId !== "default" &&
      Object.hasOwn(cameras, cameraId)
    ? cameras[cameraId].ignore_zones ?? []
    : [];
  return [...(cameras.default?.ignore_zones ?? []), ...own];
}
