/**
 * Turns ExifTool's JSON (`exiftool -ee3 -n -G3 -j FILE`) into GPS fixes.
 * One fix per `Doc<N>` group holding `GPSLatitude` and `GPSLongitude` (the
 * `Main` summary position is not a fix). Pure.
 *
 * Clocks and units, per format (ExifTool 12.57; `../shared/media/gps/README.md`):
 * - GoPro GPMF (a `DeviceName` starting "GoPro"): `GPSDateTime` is UTC
 *   (GPSU, or the Karma drone's Unix SystemTime); `SampleTime` is the
 *   payload's time in the clip; `GPSSpeed` is m/s (GPS5 2D speed), or the
 *   velocity components `GPSSpeedX/Y` in m/s (Karma GLPI).
 * - Anything else (Novatek/Viofo freeGPS, …): `GPSDateTime` is the camera's
 *   clock even when ExifTool appends `Z`; `GPSSpeed` is in the unit of
 *   `GPSSpeedRef` (K km/h, M mph, N knots) and km/h without one (ExifTool
 *   converts the freeGPS knots to km/h).
 * `GPSTrack` is the course in degrees. A `GPSMeasureMode` below 2 (no 2D
 * fix) or a 0/0 position is no fix.
 *
 * @module
 */
import {
  KNOTS_TO_KMH,
  MPH_TO_KMH,
  MS_TO_KMH,
  type RawGpsFix,
  type RawGpsTrack,
} from "./gps_fix.ts";

/**
 * Parses ExifTool's date `YYYY:MM:DD hh:mm:ss[.fff][Z|±hh:mm]` as UTC
 * (a zone suffix is ignored: the caller decides which clock it is).
 *
 * @param value ExifTool's text.
 * @returns ms since the epoch, or NaN.
 */
export function parseExifDate(value: unknown): number {
  if (typeof value !== "string") return NaN;
  const m = /^(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d(?:\.\d+)?)/.exec(
    value,
  );
  if (!m) return NaN;
  const [y, mo, d, h, mi] = m.slice(1, 6).map(Number) as number[];
  if (y === 0) return NaN; // 0000:00:00 means "not set"
  return Date.UTC(y!, mo! - 1, d!, h!, mi!) + Math.round(Number(m[6]) * 1000);
}

function num(value: unknown): number | undefined {
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && value.trim() !== ""
    ? Number(value)
    : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The fixes in one file's ExifTool record.
 *
 * @example One Novatek fix
 * ```ts
 * import assert from "node:assert/strict";
 * const t = fixesFromExiftool({ "Doc1:GPSDateTime": "2021:03:18 15:39:34Z", "Doc1:GPSLatitude": 50, "Doc1:GPSLongitude": 30, "Doc1:GPSSpeed": 3.6 });
 * assert.deepEqual(t.fixes, [{ cameraMs: Date.UTC(2021, 2, 18, 15, 39, 34), lat: 50, lon: 30, speedKmh: 3.6 }]);
 * ```
 * @param record One element of ExifTool's JSON array.
 * @returns The fixes, in Doc order.
 */
export function fixesFromExiftool(
  record: Record<string, unknown>,
): RawGpsTrack {
  const docs = new Map<number, Record<string, unknown>>();
  let gopro = false;
  for (const [key, value] of Object.entries(record)) {
    const m = /^Doc(\d+):(.+)$/.exec(key);
    if (key.endsWith(":DeviceName") && /^GoPro/i.test(String(value))) {
      gopro = true;
    }
    if (!m) continue;
    const n = Number(m[1]);
    let doc = docs.get(n);
    if (doc === undefined) docs.set(n, doc = {});
    doc[m[2]!] = value;
  }
  const fixes: RawGpsFix[] = [];
  let skipped = 0;
  let reason: string | null = null;
  for (const n of [...docs.keys()].sort((a, b) => a - b)) {
    const doc = docs.get(n)!;
    const lat = num(doc.GPSLatitude);
    const lon = num(doc.GPSLongitude);
    if (lat === undefined || lon === undefined) continue;
    const mode = num(doc.GPSMeasureMode);
    if (mode !== undefined && mode < 2) {
      skipped += 1;
      reason ??= `GPSMeasureMode ${mode} (no fix)`;
      continue;
    }
    if ((lat === 0 && lon === 0) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      skipped += 1;
      reason ??= `position ${lat},${lon} (no fix)`;
      continue;
    }
    const fix: RawGpsFix = { lat, lon };
    const sampleTime = num(doc.SampleTime);
    if (sampleTime !== undefined) fix.clipS = sampleTime;
    const time = parseExifDate(doc.GPSDateTime);
    if (Number.isFinite(time)) {
      if (gopro) fix.utcMs = time;
      else fix.cameraMs = time;
    }
    const speed = num(doc.GPSSpeed);
    const vx = num(doc.GPSSpeedX);
    const vy = num(doc.GPSSpeedY);
    if (gopro) {
      if (speed !== undefined) fix.speedKmh = speed * MS_TO_KMH;
      else if (vx !== undefined && vy !== undefined) {
        fix.speedKmh = Math.hypot(vx, vy) * MS_TO_KMH;
      }
    } else if (speed !== undefined) {
      const ref = String(doc.GPSSpeedRef ?? "K").toUpperCase();
      fix.speedKmh = ref === "N"
        ? speed * KNOTS_TO_KMH
        : ref === "M"
        ? speed * MPH_TO_KMH
        : speed;
    }
    const track = num(doc.GPSTrack);
    if (track !== undefined) fix.headingDeg = ((track % 360) + 360) % 360;
    fixes.push(fix);
  }
  return {
    source: "exiftool",
    fixes,
    skipped: { count: skipped, reason },
  };
}
