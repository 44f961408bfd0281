/**
 * The Kaiser Bass R50 daily GPS log (`gps/YYYYMMDD.dat`): CSV lines
 * `YYYYMMDDhhmmss,ddmm.mmmmm,N|S,dddmm.mmmmm,E|W,speed_knots,altitude_m`, a
 * `#` line at each power-on. Times are the camera's clock (zone unknown), so
 * they are kept as `cameraMs`. Format as documented in
 * `../shared/media/gps/README.md`. Pure.
 *
 * @module
 */
import { KNOTS_TO_KMH, type RawGpsFix, type RawGpsTrack } from "./gps_fix.ts";

function degrees(value: string, hemi: string): number {
  if (!/^\d+\.\d+$/.test(value)) return NaN;
  const v = Number(value);
  const deg = Math.floor(v / 100);
  const d = deg + (v - deg * 100) / 60;
  return hemi === "S" || hemi === "W"
    ? -d
    : hemi === "N" || hemi === "E"
    ? d
    : NaN;
}

/**
 * Reads an R50 daily log.
 *
 * @example One line
 * ```ts
 * import assert from "node:assert/strict";
 * const t = parseR50Log("20240113175000,3617.75186,S,14456.89136,E,51.397,109.4\n", { source: "20240113.dat" });
 * assert.equal(t.fixes[0]?.cameraMs, Date.UTC(2024, 0, 13, 17, 50, 0));
 * ```
 * @param text The file's text.
 * @param options `source` names the file.
 * @returns Its fixes.
 * @throws {SyntaxError} When no line has the R50 shape.
 */
export function parseR50Log(
  text: string,
  options: { source: string },
): RawGpsTrack {
  const fixes: RawGpsFix[] = [];
  let skipped = 0;
  for (const line of text.split(/\r?\n/)) {
    const m =
      /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d),([\d.]+),([NS]),([\d.]+),([EW]),([\d.]*),([-\d.]*)\s*$/
        .exec(line);
    if (!m) {
      if (line.trim() !== "" && !line.startsWith("#")) skipped += 1;
      continue;
    }
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[];
    const lat = degrees(m[7]!, m[8]!);
    const lon = degrees(m[9]!, m[10]!);
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
      skipped += 1;
      continue;
    }
    const fix: RawGpsFix = {
      cameraMs: Date.UTC(y!, mo! - 1, d!, h!, mi!, s!),
      lat,
      lon,
    };
    if (m[11] !== "") fix.speedKmh = Number(m[11]) * KNOTS_TO_KMH;
    fixes.push(fix);
  }
  if (fixes.length === 0) {
    throw new SyntaxError(
      `Cannot read GPS log ${options.source} as a Kaiser Bass R50 log: no line has the shape YYYYMMDDhhmmss,ddmm.mmmmm,N|S,dddmm.mmmmm,E|W,knots,metres`,
    );
  }
  return {
    source: `r50:${options.source}`,
    fixes,
    skipped: {
      count: skipped,
      reason: skipped > 0 ? "line not in the R50 shape" : null,
    },
  };
}
