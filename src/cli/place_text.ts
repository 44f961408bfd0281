/**
 * The place part of a `vehicles` line: `at LAT,LON 52 km/h 270°`. Pure.
 *
 * @module
 */

/**
 * Formats an event's place, speed and heading (and a GPS clock), or "" when
 * it has no location.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(placeText({ lat: 52.12345678, lon: -0.5, speedKmh: 51.6, headingDeg: 270.2, timeSource: "gps" }), "at 52.123457,-0.500000 52 km/h 270° time=gps");
 * assert.equal(placeText({}), "");
 * ```
 * @param e An outbox event or a fleet row (null and undefined mean unknown).
 * @returns The text.
 */
export function placeText(e: {
  lat?: number | null;
  lon?: number | null;
  speedKmh?: number | null;
  headingDeg?: number | null;
  timeSource?: string | null;
}): string {
  const parts: string[] = [];
  if (typeof e.lat === "number" && typeof e.lon === "number") {
    parts.push(`at ${e.lat.toFixed(6)},${e.lon.toFixed(6)}`);
    if (typeof e.speedKmh === "number") {
      parts.push(`${Math.round(e.speedKmh)} km/h`);
    }
    if (typeof e.headingDeg === "number") {
      parts.push(`${Math.round(e.headingDeg) % 360}°`);
    }
  }
  if (e.timeSource === "gps") parts.push("time=gps");
  return parts.join(" ");
}
