/**
 * The `ignore_zones` setting of a camera: parts of its picture where no
 * plate is ever reported (a burned-in label, a windscreen sticker, the
 * bonnet). Polygons in relative coordinates, so one setting fits every
 * resolution the camera records. Pure: validation only.
 *
 * @module
 */

/** A point `[x, y]`, each from 0 to 1 of the frame's width and height. */
export type RelativePoint = [number, number];

/** A polygon of at least 3 points (closed implicitly). */
export type IgnoreZone = RelativePoint[];

/**
 * Checks one camera's `ignore_zones`: a list of polygons, each a list of at
 * least 3 `[x, y]` points with 0 <= x, y <= 1.
 *
 * @example Usage
 * ```ts
 * import { validateIgnoreZones } from "./ignore_zones.ts";
 * import assert from "node:assert/strict";
 * const key = "cameras.front.ignore_zones";
 * assert.equal(validateIgnoreZones([[[0.7, 0.9], [1, 0.9], [1, 1], [0.7, 1]]], key).length, 1);
 * assert.throws(() => validateIgnoreZones([[[0, 0], [2, 0], [0, 1]]], key), /point 1 of polygon 0/);
 * ```
 * @param raw The setting's value.
 * @param key The setting's name, for the error.
 * @returns The zones.
 * @throws {TypeError} One line naming `key`, what is allowed and what is wrong.
 */
export function validateIgnoreZones(raw: unknown, key: string): IgnoreZone[] {
  const fail = (detail: string): never => {
    throw new TypeError(
      `Invalid config '${key}': expected a list of polygons, each a list of at least 3 [x, y] points with x and y from 0 to 1 (fractions of the frame's width and height); ${detail}`,
    );
  };
  if (!Array.isArray(raw)) fail(`got ${JSON.stringify(raw)}`);
  return (raw as unknown[]).map((polygon, i) => {
    if (!Array.isArray(polygon) || polygon.length < 3) {
      fail(`polygon ${i} is ${JSON.stringify(polygon)}`);
    }
    return (polygon as unknown[]).map((point, j) => {
      const ok = Array.isArray(point) && point.length === 2 &&
        point.every((v) => typeof v === "number" && v >= 0 && v <= 1);
      if (!ok) fail(`point ${j} of polygon ${i} is ${JSON.stringify(point)}`);
      return [...(point as number[])] as RelativePoint;
    });
  });
}
