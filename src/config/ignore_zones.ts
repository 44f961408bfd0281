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

/** One camera's plate settings. */
export interface CameraZones {
  /** Polygons (relative coordinates) where no plate is reported. */
  ignore_zones?: IgnoreZone[];
}

/**
 * Checks the `ignore_zones` of every camera of the `cameras` section (an
 * object keyed by camera id; `default` applies to every camera). Only
 * `ignore_zones` is checked here; the cameras' clock settings have their
 * own checks.
 *
 * @param raw The `cameras` section.
 * @param otherKeys Other keys a camera entry may hold. @default {[]}
 * @returns Each camera's zones.
 * @throws {TypeError} One line naming the first bad key.
 */
export function validateCameraZones(
  raw: unknown,
  otherKeys: readonly string[] = [],
): Record<string, CameraZones> {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(raw)) {
    throw new TypeError(
      `Invalid config 'cameras': expected an object keyed by camera id, got ${
        JSON.stringify(raw)
      }`,
    );
  }
  const out: Record<string, CameraZones> = {};
  for (const [id, entry] of Object.entries(raw)) {
    if (!isObject(entry)) {
      throw new TypeError(
        `Invalid config 'cameras.${id}': expected an object, got ${
          JSON.stringify(entry)
        }`,
      );
    }
    for (const k of Object.keys(entry)) {
      if (k !== "ignore_zones" && !otherKeys.includes(k)) {
        throw new TypeError(
          `Unknown config key 'cameras.${id}.${k}': allowed keys are ${
            ["ignore_zones", ...otherKeys].join(", ")
          }`,
        );
      }
    }
    out[id] = entry.ignore_zones === undefined ? {} : {
      ignore_zones: validateIgnoreZones(
        entry.ignore_zones,
        `cameras.${id}.ignore_zones`,
      ),
    };
  }
  return out;
}
