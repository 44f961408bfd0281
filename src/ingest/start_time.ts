/**
 * Clip start times from dashcam file names. Pure.
 *
 * @module
 */
import { basename } from "node:path";

/**
 * Finds a date-time in a dashcam file name, e.g. `20231124_153012_F.mp4`,
 * `2023-11-24-15-30-12.mp4`, `FILE231124-153012.MP4` or `2023_1124_153012`.
 * The name carries no zone; the camera's clock is taken as UTC.
 *
 * @example
 * ```ts
 * import { startTimeFromName } from "./start_time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(startTimeFromName("/sd/20231124_153012_F.mp4"), "2023-11-24T15:30:12.000Z");
 * ```
 * @param path The clip path.
 * @returns ISO time, or null when the name has none.
 */
export function startTimeFromName(path: string): string | null {
  const name = basename(path);
  const patterns: RegExp[] = [
    // 2023-11-24_15-30-12, 20231124_153012, 2023_1124_153012, 20231124T153012
    /(?<!\d)(20\d\d)[-_]?(\d\d)[-_]?(\d\d)[-_T ]?(\d\d)[-_:]?(\d\d)[-_:]?(\d\d)(?!\d)/,
    // 231124-153012 (two-digit year)
    /(?<!\d)(\d\d)(\d\d)(\d\d)[-_](\d\d)(\d\d)(\d\d)(?!\d)/,
  ];
  for (const re of patterns) {
    const m = re.exec(name);
    if (!m) continue;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
    const year = y < 100 ? 2000 + y : y;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
      continue;
    }
    const t = Date.UTC(year, mo - 1, d, h, mi, s);
    const date = new Date(t);
    if (date.getUTCDate() !== d) continue;
    return date.toISOString();
  }
  return null;
}
