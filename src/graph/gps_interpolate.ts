/**
 * Position, speed and heading at a moment of a clip, interpolated between
 * the GPS fixes around it. Pure.
 *
 * Linear interpolation in latitude and longitude (the longitude difference
 * taken the short way across the antimeridian): between fixes 1 s apart a
 * vehicle moves at most tens of metres, where the straight line and the
 * great circle differ by millimetres. Speed is interpolated linearly when
 * both fixes have one, else it is the distance over the time between them;
 * heading is interpolated the short way round the circle when both fixes
 * have one, else it is the bearing from the earlier fix to the later.
 *
 * @module
 */
import { bearingDeg, type GpsFix, haversineM } from "../shared/mod.ts";

/** What interpolation found at one moment. */
export type GpsAt =
  | {
    ok: true;
    /** Latitude, degrees. */
    lat: number;
    /** Longitude, degrees. */
    lon: number;
    /** km/h, or null when not known. */
    speedKmh: number | null;
    /** Degrees from true north, or null when not known (standing still). */
    headingDeg: number | null;
  }
  | { ok: false; reason: string };

/** Options for {@linkcode gpsAt}. */
export interface GpsAtOptions {
  /** Longest gap between two fixes to interpolate across, seconds. @default {5} */
  maxGapS?: number;
  /** How far before the first or after the last fix the nearest fix still stands, seconds. @default {1.5} */
  edgeS?: number;
}

/** Below this distance between two fixes a bearing means nothing (GPS noise), metres. */
const MIN_BEARING_M = 2;

function lerp(a: number, b: number, w: number): number {
  return a + (b - a) * w;
}

function lerpLon(a: number, b: number, w: number): number {
  let d = b - a;
  if (d > 180) d -= 360;
  if (d < -180) d += 360;
  let v = a + d * w;
  if (v > 180) v -= 360;
  if (v < -180) v += 360;
  return v;
}

function lerpAngle(a: number, b: number, w: number): number {
  let d = ((b - a) % 360 + 540) % 360 - 180;
  if (d === -180) d = 180;
  return ((a + d * w) % 360 + 360) % 360;
}

/**
 * Interpolates the track at `tS` seconds into the clip.
 *
 * @example Half-way between two fixes
 * ```ts
 * import assert from "node:assert/strict";
 * const at = gpsAt([{ t: 0, lat: 50, lon: 30, speedKmh: 10 }, { t: 1, lat: 50.001, lon: 30, speedKmh: 20 }], 0.5);
 * assert.ok(at.ok && Math.abs(at.lat - 50.0005) < 1e-9 && at.speedKmh === 15 && at.headingDeg === 0);
 * ```
 * @param fixes Fixes by increasing `t`.
 * @param tS Seconds from the clip's start.
 * @param options Largest gap, edge allowance.
 * @returns The values, or why there are none.
 */
export function gpsAt(
  fixes: readonly GpsFix[],
  tS: number,
  options: GpsAtOptions = {},
): GpsAt {
  const { maxGapS = 5, edgeS = 1.5 } = options;
  if (fixes.length === 0) return { ok: false, reason: "no GPS fix" };
  const first = fixes[0]!;
  const last = fixes[fixes.length - 1]!;
  if (tS <= first.t || tS >= last.t) {
    const f = tS <= first.t ? first : last;
    if (Math.abs(tS - f.t) > edgeS) {
      return {
        ok: false,
        reason: `no GPS fix within ${edgeS} s of t=${
          tS.toFixed(2)
        } s (track covers ${first.t.toFixed(2)}-${last.t.toFixed(2)} s)`,
      };
    }
    const other = fixes.length > 1
      ? (f === first ? fixes[1]! : fixes[fixes.length - 2]!)
      : null;
    let heading = f.headingDeg ?? null;
    if (heading === null && other && haversineM(other, f) >= MIN_BEARING_M) {
      heading = f === first ? bearingDeg(f, other) : bearingDeg(other, f);
    }
    return {
      ok: true,
      lat: f.lat,
      lon: f.lon,
      speedKmh: f.speedKmh ?? null,
      headingDeg: heading,
    };
  }
  let i = 1;
  while (fixes[i]!.t < tS) i++;
  const a = fixes[i - 1]!;
  const b = fixes[i]!;
  const dt = b.t - a.t;
  if (dt > maxGapS) {
    return {
      ok: false,
      reason: `GPS gap of ${dt.toFixed(1)} s around t=${
        tS.toFixed(2)
      } s (more than ${maxGapS} s)`,
    };
  }
  const w = dt > 0 ? (tS - a.t) / dt : 0;
  const dist = haversineM(a, b);
  const speedKmh = a.speedKmh !== undefined && b.speedKmh !== undefined
    ? lerp(a.speedKmh, b.speedKmh, w)
    : dt > 0
    ? (dist / dt) * 3.6
    : null;
  const headingDeg = a.headingDeg !== undefined && b.headingDeg !== undefined
    ? lerpAngle(a.headingDeg, b.headingDeg, w)
    : dist >= MIN_BEARING_M
    ? bearingDeg(a, b)
    : (a.headingDeg ?? b.headingDeg ?? null);
  return {
    ok: true,
    lat: lerp(a.lat, b.lat, w),
    lon: lerpLon(a.lon, b.lon, w),
    speedKmh,
    headingDeg,
  };
}
