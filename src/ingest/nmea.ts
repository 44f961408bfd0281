/**
 * A small NMEA 0183 reader for dashcam GPS sidecars (`.nmea`, BlackVue
 * `.gps`): `RMC` sentences give time (UTC), status, position, speed (knots)
 * and course; `GGA` sentences without an RMC beside them give a position
 * only. A line may carry a `[unix_ms]` prefix (BlackVue): that number is the
 * camera's wall clock written as if it were epoch time, NOT UTC (see
 * `../shared/media/gps/README.md`), so it is kept as `cameraMs`. Sentences
 * are NMEA 0183 v4.11 section 6 (`$ttRMC,hhmmss.ss,A,llll.ll,a,yyyyy.yy,a,
 * x.x,x.x,ddmmyy,…*hh`); the checksum is the XOR of the bytes between `$`
 * and `*`. A sentence whose checksum fails is left out, unless every
 * sentence with a position (RMC, GGA, GLL) fails it: then a tool rewrote
 * the positions without updating the checksums (the anonymised BlackVue sample is such a file), the
 * checksums say nothing, and the sentences are read (the jump filter of
 * `gps_align.ts` still drops a garbled position). Pure.
 *
 * @module
 */
import { KNOTS_TO_KMH, type RawGpsFix, type RawGpsTrack } from "./gps_fix.ts";

/** Raised when a file holds no NMEA sentence at all. */
export class NotNmeaError extends SyntaxError {
  /** Creates the error. */
  constructor(source: string) {
    super(
      `Cannot read GPS sidecar ${source} as NMEA 0183: it holds no $..RMC or $..GGA sentence`,
    );
    this.name = "NotNmeaError";
  }
}

/** Degrees from NMEA `dddmm.mmmm` and a hemisphere letter; NaN when malformed. */
function nmeaDegrees(value: string, hemi: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) return NaN;
  const v = Number(value);
  const deg = Math.floor(v / 100);
  const minutes = v - deg * 100;
  if (minutes >= 60) return NaN;
  const d = deg + minutes / 60;
  if (hemi === "S" || hemi === "W") return d === 0 ? 0 : -d;
  if (hemi === "N" || hemi === "E") return d;
  return NaN;
}

function checksumOk(sentence: string): boolean {
  const star = sentence.lastIndexOf("*");
  if (star < 0) return true; // checksum is optional in NMEA 0183
  const want = parseInt(sentence.slice(star + 1, star + 3), 16);
  let sum = 0;
  for (let i = 1; i < star; i++) sum ^= sentence.charCodeAt(i);
  return sum === want;
}

/** ms of an RMC `hhmmss.ss` + `ddmmyy` (UTC), or NaN. */
function rmcTime(time: string, date: string): number {
  const t = /^(\d\d)(\d\d)(\d\d(?:\.\d+)?)$/.exec(time);
  const d = /^(\d\d)(\d\d)(\d\d)$/.exec(date);
  if (!t || !d) return NaN;
  const year = 2000 + Number(d[3]);
  const ms = Date.UTC(year, Number(d[2]) - 1, Number(d[1])) +
    Number(t[1]) * 3_600_000 + Number(t[2]) * 60_000 +
    Math.round(Number(t[3]) * 1000);
  return Number(t[1]) < 24 && Number(t[2]) < 60 ? ms : NaN;
}

/**
 * Reads the fixes of an NMEA text.
 *
 * @example One RMC line with a BlackVue prefix
 * ```ts
 * import assert from "node:assert/strict";
 * const track = parseNmea(
 *   "[1784358211371]$GPRMC,060329.000,A,5200.0000,N,0.0000,W,048.0,145.2,180726,,,A*7A\n",
 *   { source: "x.gps" },
 * );
 * assert.equal(track.fixes[0]?.utcMs, Date.UTC(2026, 6, 18, 6, 3, 29));
 * assert.equal(track.fixes[0]?.cameraMs, 1784358211371);
 * ```
 * @param text The file's text.
 * @param options `source` names the file in messages and in the track.
 * @returns The fixes (RMC with status A, or GGA with a fix when no RMC is there).
 * @throws {NotNmeaError} When no line is an RMC or GGA sentence.
 */
export function parseNmea(
  text: string,
  options: { source: string },
): RawGpsTrack {
  const rmc: RawGpsFix[] = [];
  const gga: RawGpsFix[] = [];
  let sentences = 0;
  let skipped = 0;
  let reason: string | null = null;
  const skip = (why: string) => {
    skipped += 1;
    reason ??= why;
  };
  const lines = text.split(/\r?\n/).map((raw) => raw.trim());
  let checked = 0;
  let passed = 0;
  for (const line of lines) {
    const m = /^(?:\[\d+\])?(\$[A-Z]{2}(?:RMC|GGA|GLL),[^*]*\*[0-9A-Fa-f]{2})$/
      .exec(line);
    if (!m) continue;
    checked += 1;
    if (checksumOk(m[1]!)) passed += 1;
  }
  const useChecksums = checked === 0 || passed > 0;
  for (const line of lines) {
    const m = /^(?:\[(\d+)\])?(\$[A-Z]{2}(RMC|GGA),[^\r\n]*)$/.exec(line);
    if (!m) continue;
    sentences += 1;
    const prefix = m[1] === undefined ? undefined : Number(m[1]);
    const sentence = m[2]!;
    if (useChecksums && !checksumOk(sentence)) {
      skip("bad checksum");
      continue;
    }
    const f = sentence.replace(/\*[0-9A-Fa-f]{2}$/, "").split(",");
    if (m[3] === "RMC") {
      if (f[2] !== "A") {
        skip("RMC status V (no fix)");
        continue;
      }
      const lat = nmeaDegrees(f[3] ?? "", f[4] ?? "");
      const lon = nmeaDegrees(f[5] ?? "", f[6] ?? "");
      const utcMs = rmcTime(f[1] ?? "", f[9] ?? "");
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
        skip("RMC without a position");
        continue;
      }
      const fix: RawGpsFix = { lat, lon };
      if (Number.isFinite(utcMs)) fix.utcMs = utcMs;
      if (prefix !== undefined) fix.cameraMs = prefix;
      if (f[7] !== undefined && f[7] !== "" && Number.isFinite(Number(f[7]))) {
        fix.speedKmh = Number(f[7]) * KNOTS_TO_KMH;
      }
      if (f[8] !== undefined && f[8] !== "" && Number.isFinite(Number(f[8]))) {
        fix.headingDeg = Number(f[8]);
      }
      rmc.push(fix);
    } else {
      if (f[6] === undefined || f[6] === "0" || f[6] === "") {
        skip("GGA fix quality 0 (no fix)");
        continue;
      }
      const lat = nmeaDegrees(f[2] ?? "", f[3] ?? "");
      const lon = nmeaDegrees(f[4] ?? "", f[5] ?? "");
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
        skip("GGA without a position");
        continue;
      }
      const fix: RawGpsFix = { lat, lon };
      if (prefix !== undefined) fix.cameraMs = prefix;
      gga.push(fix);
    }
  }
  if (sentences === 0) throw new NotNmeaError(options.source);
  // GGA carries no date, so it is used only when there is no RMC at all.
  const fixes = rmc.length > 0 ? rmc : gga;
  if (!useChecksums) {
    reason ??= "every checksum fails (file rewritten); sentences read anyway";
  }
  return {
    source: `nmea:${options.source}`,
    fixes,
    skipped: { count: skipped, reason },
  };
}
