/**
 * `--near LAT,LON --radius METRES` of `vehicles`. Pure; errors are
 * {@linkcode UsageError}s naming the flag, what is allowed and the value.
 *
 * @module
 */
import { UsageError } from "./common.ts";

/** A place to search around. */
export interface NearFilter {
  /** Latitude, degrees, -90..90. */
  lat: number;
  /** Longitude, degrees, -180..180. */
  lon: number;
  /** Radius, metres, > 0. */
  radiusM: number;
}

/** Largest radius accepted, metres (half the Earth's circumference). */
export const MAX_RADIUS_M = 20_000_000;

const DECIMAL = /^[-+]?\d+(\.\d+)?$/;

/**
 * Parses `--near` and `--radius` (both or neither).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseNearFlags("52.1,-0.5", "250"), { lat: 52.1, lon: -0.5, radiusM: 250 });
 * assert.equal(parseNearFlags(undefined, undefined), undefined);
 * ```
 * @param near The `--near` text, `LAT,LON` in decimal degrees.
 * @param radius The `--radius` text, metres.
 * @returns The filter, or undefined when neither flag is given.
 * @throws {UsageError} When one is missing or a value is malformed or out of range.
 */
export function parseNearFlags(
  near: string | undefined,
  radius: string | undefined,
): NearFilter | undefined {
  if (near === undefined && radius === undefined) return undefined;
  if (near === undefined) throw new UsageError("--radius needs --near LAT,LON");
  if (radius === undefined) {
    throw new UsageError("--near needs --radius METRES");
  }
  const parts = near.split(",").map((p) => p.trim());
  const [latText, lonText] = parts;
  if (
    parts.length !== 2 || !DECIMAL.test(latText ?? "") ||
    !DECIMAL.test(lonText ?? "")
  ) {
    throw new UsageError(
      `--near needs LAT,LON in decimal degrees (e.g. 52.2053,0.1218), got '${near}'`,
    );
  }
  const lat = Number(latText);
  const lon = Number(lonText);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    throw new UsageError(
      `--near needs a latitude in -90..90 and a longitude in -180..180, got '${near}'`,
    );
  }
  const radiusM = Number(radius);
  if (
    !/^\d+(\.\d+)?$/.test(radius) || !(radiusM > 0) || radiusM > MAX_RADIUS_M
  ) {
    throw new UsageError(
      `--radius needs a number of metres above 0 and at most ${MAX_RADIUS_M}, got '${radius}'`,
    );
  }
  return { lat, lon, radiusM };
}
