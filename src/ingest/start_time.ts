/**
 * Clip start times from dashcam file names and container tags, read in the
 * camera's time zone. Pure.
 *
 * @module
 */
import { utcWallTime, wallTimeToEpochMs } from "../shared/mod.ts";
import { wallTimeFromName } from "./segment_name.ts";

/**
 * Finds a date-time in a dashcam file name, e.g. `20231124_153012_F.mp4`,
 * `2023-11-24-15-30-12.mp4`, `FILE231124-153012.MP4` or `2023_1124_153012`.
 * The name carries no zone: it is the camera's wall clock, read in
 * `timeZone` (the camera's `time_zone` setting).
 *
 * @example
 * ```ts
 * import { startTimeFromName } from "./start_time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(startTimeFromName("/sd/20231124_153012_F.mp4"), "2023-11-24T15:30:12.000Z");
 * assert.equal(
 *   startTimeFromName("/sd/20230724_153012_F.mp4", { timeZone: "Europe/London" }),
 *   "2023-07-24T14:30:12.000Z",
 * );
 * ```
 * @param path The clip path.
 * @param options The camera's IANA zone. @default {{ timeZone: "UTC" }}
 * @returns ISO time (UTC), or null when the name has none.
 */
export function startTimeFromName(
  path: string,
  options: { timeZone?: string } = {},
): string | null {
  const wall = wallTimeFromName(path);
  if (!wall) return null;
  return new Date(wallTimeToEpochMs(wall, options.timeZone ?? "UTC"))
    .toISOString();
}

/**
 * A container `creation_time` as an instant: as tagged (`utc`), or its
 * digits read as the camera's wall clock in `timeZone` (`local`: most
 * dashcams write local time and label it UTC).
 *
 * @example
 * ```ts
 * import { creationTimeInZone } from "./start_time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   creationTimeInZone("2026-03-15T08:15:02.000Z", { timeZone: "Europe/Berlin", creationTime: "local" }),
 *   "2026-03-15T07:15:02.000Z",
 * );
 * ```
 * @param iso The tag, ISO.
 * @param options The camera's zone and whether the tag is local.
 * @returns ISO time (UTC).
 */
export function creationTimeInZone(
  iso: string,
  options: { timeZone: string; creationTime: "utc" | "local" },
): string {
  if (options.creationTime === "utc") return new Date(iso).toISOString();
  const w = utcWallTime(iso);
  return new Date(wallTimeToEpochMs(w, options.timeZone) + w.ms).toISOString();
}
